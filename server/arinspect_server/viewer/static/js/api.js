// REST calls and the section stream of the arinspect sync server (docs/sync-protocol.md).

export class ApiError extends Error {
  constructor(status, detail) {
    super(`${status}: ${detail}`);
    this.status = status;
    this.detail = detail;
  }
}

export class Api {
  constructor(token) {
    this.token = token;
  }

  async request(method, path, body) {
    const headers = { Authorization: `Bearer ${this.token}` };
    const init = { method, headers };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    if (!response.ok) {
      let detail = response.statusText;
      try { detail = (await response.json()).detail ?? detail; } catch { /* not JSON */ }
      throw new ApiError(response.status, detail);
    }
    return response;
  }

  async json(path) { return (await this.request('GET', path)).json(); }
  async bytes(path) { return (await this.request('GET', path)).arrayBuffer(); }
  async blobUrl(path) { return URL.createObjectURL(await (await this.request('GET', path)).blob()); }
  async patch(path, body) { return (await this.request('PATCH', path, body)).json(); }
  async post(path, body) { return (await this.request('POST', path, body)).json(); }
}

export function newOpId() {
  return crypto.randomUUID();
}

// One WebSocket stream per section: catch-up from `since`, then live events. It
// reconnects with the last sequence number it saw, so nothing is missed or repeated.
export class SectionStream {
  constructor(token, sectionId, since, onEvents, onState) {
    this.token = token;
    this.sectionId = sectionId;
    this.since = since;
    this.onEvents = onEvents;
    this.onState = onState;
    this.closed = false;
    this.retryMs = 500;
    this.connect();
  }

  connect() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const query = `since=${this.since}&token=${encodeURIComponent(this.token)}`;
    const url = `${scheme}://${location.host}/api/sections/${this.sectionId}/stream?${query}`;
    this.socket = new WebSocket(url);
    this.socket.onmessage = (message) => this.receive(JSON.parse(message.data));
    this.socket.onclose = () => {
      this.onState('offline');
      if (!this.closed) {
        setTimeout(() => this.connect(), this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, 10000);
      }
    };
  }

  receive(message) {
    if (message.type === 'events') {
      const fresh = message.events.filter((event) => event.seq > this.since);
      if (fresh.length) {
        this.since = fresh[fresh.length - 1].seq;
        this.onEvents(fresh);
      }
    } else if (message.type === 'caught_up') {
      this.retryMs = 500;
      this.onState('live');
    } else if (message.type === 'error') {
      this.onState(`error ${message.code}: ${message.detail}`);
    }
  }

  close() {
    this.closed = true;
    this.socket?.close();
  }
}
