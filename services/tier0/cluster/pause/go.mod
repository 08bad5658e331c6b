module tier0.local/pause

go 1.22
