// Test helpers: fake fetch responses, SSE byte streams cut at chosen places, and a fetch stub that
// honours AbortSignal the way the browser does (the body stream errors when the request is aborted).
// Used by *.test.ts only; nothing in the page imports it.

const encoder = new TextEncoder()

/** One SSE frame as the server writes it (serving/api/sse.py). */
export const sseFrame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`

/** The UTF-8 bytes of `text` in pieces of `size` bytes: multi-byte characters get cut in half. */
export function byteChunks(text: string, size: number): Uint8Array[] {
  const bytes = encoder.encode(text)
  const chunks: Uint8Array[] = []
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.slice(i, i + size))
  return chunks
}

export interface FakeStream {
  stream: ReadableStream<Uint8Array>
  push: (chunk: string | Uint8Array) => void
  close: () => void
  fail: (reason: unknown) => void
}

/** A body stream the test feeds by hand (or all at once with `chunks` and `close`). */
export function fakeStream(chunks: (string | Uint8Array)[] = [], close = true): FakeStream {
  let controller!: ReadableStreamDefaultController<Uint8Array>
  let closed = false
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c
    },
  })
  const push = (chunk: string | Uint8Array) => {
    if (!closed) controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk)
  }
  const fake: FakeStream = {
    stream,
    push,
    close: () => {
      if (!closed) controller.close()
      closed = true
    },
    fail: (reason) => {
      if (!closed) controller.error(reason)
      closed = true
    },
  }
  chunks.forEach(push)
  if (close) fake.close()
  return fake
}

export const jsonResponse = (body: unknown, status = 200) =>
  new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })

export const sseResponse = (stream: ReadableStream<Uint8Array>) =>
  new Response(stream, { status: 200, headers: { 'Content-Type': 'text/event-stream; charset=utf-8' } })

export interface Call {
  url: string
  method: string
  body: unknown
  headers: Headers
  credentials: RequestCredentials | undefined
}

/**
 * A fetch stub: `route` answers each request (or throws). Records the calls, and errors a streamed
 * body with an AbortError when the request's signal aborts, as browsers do.
 */
export function stubFetch(route: (call: Call) => Response | { fake: FakeStream } | Promise<Response | { fake: FakeStream }>) {
  const calls: Call[] = []
  const fetch = async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const call: Call = {
      url: String(input),
      method: init.method ?? 'GET',
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
      headers: new Headers(init.headers),
      credentials: init.credentials,
    }
    calls.push(call)
    if (init.signal?.aborted) throw new DOMException('aborted', 'AbortError')
    const answer = await route(call)
    if (answer instanceof Response) return answer
    init.signal?.addEventListener('abort', () => answer.fake.fail(new DOMException('aborted', 'AbortError')))
    return sseResponse(answer.fake.stream)
  }
  return { fetch, calls }
}
