"""The single-node Kubernetes cluster: containerd, kubelet, CNI and offline images."""
