// Every request goes through here, so every failure reaches the page as an ApiError with a
// message a person can act on: the API's own problem detail, or who could not be reached.

export class ApiError extends Error {
  constructor(status, title, detail) {
    super(detail ? `${title}: ${detail}` : title);
    this.status = status;
    this.title = title;
    this.detail = detail;
  }
  // 502/504 come from the dashboard server when the API itself does not answer.
  get unreachable() { return this.status === 0 || this.status === 502 || this.status === 504; }
}

function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params || {})) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined && item !== null && item !== '') search.append(name, item);
    }
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export async function api(path, { method = 'GET', params, body, key, timeoutMs = 40000 } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (key) headers['X-API-Key'] = key;
  let response;
  try {
    response = await fetch(path + query(params), {
      method, headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new ApiError(0, 'Dashboard server unreachable', `${error.name}: ${error.message}`);
  }
  const type = response.headers.get('content-type') || '';
  const data = type.includes('json') ? await response.json().catch(() => null) : await response.text();
  if (!response.ok) {
    const title = (data && data.title) || `HTTP ${response.status}`;
    const detail = data && typeof data === 'object' ? data.detail : String(data || '').slice(0, 300);
    throw new ApiError(response.status, title, detail);
  }
  return data;
}
