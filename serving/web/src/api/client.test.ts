import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError, setCsrfToken, setUnauthorizedHandler } from './http'
import { deleteConversation, exportUrl, getMe, listConversations, listDimension, login, renameConversation, streamChat } from './client'
import { byteChunks, fakeStream, jsonResponse, sseFrame, stubFetch } from './testing'
import type { ChatResponse } from './types'

const done: Partial<ChatResponse> = {
  question: '医院本年药占比是多少？包括同比',
  answer: '**药占比**（2023-01-01 至 2023-09-08）为 36.45%。\n同比下降 0.22百分点。',
  conversation_id: 'c-1',
}
const STREAM =
  sseFrame('plan', { plan: { calls: [], clarification: null, refusal: null } }) +
  sseFrame('results', { tool_results: [] }) +
  sseFrame('answer', { delta: '**药占比**（2023-01-01 至 2023-09-08）为 ' }) +
  sseFrame('answer', { delta: '36.45%。\n' }) +
  sseFrame('answer', { delta: '同比下降 0.22百分点。' }) +
  sseFrame('done', done)

function recorder() {
  const seen: string[] = []
  const deltas: string[] = []
  return {
    seen,
    deltas,
    handlers: {
      onPlan: () => seen.push('plan'),
      onResults: () => seen.push('results'),
      onDelta: (d: string) => {
        seen.push('answer')
        deltas.push(d)
      },
      onDone: () => seen.push('done'),
      onError: (e: ApiError) => seen.push(`error:${e.type}`),
    },
  }
}

afterEach(() => {
  vi.unstubAllGlobals()
  vi.useRealTimers()
})

describe('streamChat', () => {
  it.each([1, 3, 7, 64])('reads events cut into %i-byte chunks (Chinese characters split in half)', async (size) => {
    const { fetch, calls } = stubFetch(() => ({ fake: fakeStream(byteChunks(STREAM, size)) }))
    vi.stubGlobal('fetch', fetch)
    const r = recorder()
    const response = await streamChat({ question: '医院本年药占比是多少？包括同比', conversation_id: 'c-0' }, r.handlers)
    expect(response.conversation_id).toBe('c-1')
    expect(r.seen).toEqual(['plan', 'results', 'answer', 'answer', 'answer', 'done'])
    expect(r.deltas.join('')).toBe(done.answer)
    expect(calls[0]).toMatchObject({
      url: '/api/v1/chat/stream',
      method: 'POST',
      body: { question: '医院本年药占比是多少？包括同比', conversation_id: 'c-0' },
    })
  })

  it('sends the scope, and leaves out an empty scope and a missing conversation', async () => {
    const { fetch, calls } = stubFetch(() => ({ fake: fakeStream([STREAM]) }))
    vi.stubGlobal('fetch', fetch)
    await streamChat({ question: 'q', scope: { campus: ['东院区'], start: '2023-01-01', end: '2023-06-30' } })
    await streamChat({ question: 'q', scope: {} })
    expect(calls[0].body).toEqual({ question: 'q', scope: { campus: ['东院区'], start: '2023-01-01', end: '2023-06-30' } })
    expect(calls[1].body).toEqual({ question: 'q' })
  })

  it("turns an HTTP 422 before the stream into an ApiError with the server's message", async () => {
    const body = { error: { message: '问题过长（501 字），请控制在 500 字以内', type: 'invalid_question', param: 'question', valid: [], suggestions: [] } }
    vi.stubGlobal('fetch', stubFetch(() => jsonResponse(body, 422)).fetch)
    const r = recorder()
    const failure = streamChat({ question: 'x'.repeat(501) }, r.handlers)
    await expect(failure).rejects.toBeInstanceOf(ApiError)
    await expect(failure).rejects.toMatchObject({ status: 422, type: 'invalid_question', message: body.error.message })
    expect(r.seen).toEqual(['error:invalid_question'])
  })

  it('reports a stream that ends without done as interrupted, after the deltas it did get', async () => {
    const cut = STREAM.slice(0, STREAM.indexOf('event: done'))
    vi.stubGlobal('fetch', stubFetch(() => ({ fake: fakeStream([cut]) })).fetch)
    const r = recorder()
    await expect(streamChat({ question: 'q' }, r.handlers)).rejects.toMatchObject({
      type: 'interrupted',
      message: '连接中断，回答未完成，请重试',
    })
    expect(r.seen.at(-1)).toBe('error:interrupted')
    expect(r.seen).not.toContain('done')
  })

  it('reports a half-sent done frame as interrupted, not as a parse error', async () => {
    const half = STREAM.slice(0, STREAM.length - 20)
    vi.stubGlobal('fetch', stubFetch(() => ({ fake: fakeStream([half]) })).fetch)
    await expect(streamChat({ question: 'q' })).rejects.toMatchObject({ type: 'interrupted' })
  })

  it('rejects with the message of an error event', async () => {
    const stream = sseFrame('plan', { plan: {} }) + sseFrame('error', { error: { message: '服务器内部错误，已记录日志；请重试。', type: 'internal_error' } })
    vi.stubGlobal('fetch', stubFetch(() => ({ fake: fakeStream([stream]) })).fetch)
    const r = recorder()
    await expect(streamChat({ question: 'q' }, r.handlers)).rejects.toMatchObject({
      message: '服务器内部错误，已记录日志；请重试。',
      type: 'internal_error',
    })
    expect(r.seen).toEqual(['plan', 'error:internal_error'])
  })

  it('gives up with a Chinese timeout message when no byte arrives for idleTimeoutMs', async () => {
    const fake = fakeStream([sseFrame('plan', { plan: {} })], false) // then silence
    vi.stubGlobal('fetch', stubFetch(() => ({ fake })).fetch)
    const r = recorder()
    const started = Date.now()
    const failure = streamChat({ question: 'q' }, r.handlers, { idleTimeoutMs: 60 })
    await expect(failure).rejects.toMatchObject({ type: 'timeout' })
    await expect(failure).rejects.toThrow(/没有响应/)
    expect(Date.now() - started).toBeLessThan(2000)
    expect(r.seen).toEqual(['plan', 'error:timeout'])
  })

  it('keeps waiting while events keep coming, however long the whole answer takes', async () => {
    const fake = fakeStream([], false)
    vi.stubGlobal('fetch', stubFetch(() => ({ fake })).fetch)
    const pending = streamChat({ question: 'q' }, {}, { idleTimeoutMs: 80 })
    for (const frame of STREAM.split(/(?<=\n\n)/)) {
      await new Promise((resolve) => setTimeout(resolve, 40))
      fake.push(frame)
    }
    await expect(pending).resolves.toMatchObject({ conversation_id: 'c-1' })
  })

  it("stops when the caller aborts, without calling onError", async () => {
    const fake = fakeStream([sseFrame('answer', { delta: '部分' })], false)
    vi.stubGlobal('fetch', stubFetch(() => ({ fake })).fetch)
    const r = recorder()
    const controller = new AbortController()
    const pending = streamChat({ question: 'q' }, r.handlers, { signal: controller.signal })
    await vi.waitFor(() => expect(r.deltas).toEqual(['部分']))
    controller.abort()
    await expect(pending).rejects.toMatchObject({ type: 'aborted' })
    expect(r.seen).toEqual(['answer'])
  })

  it('says the server cannot be reached when fetch itself fails', async () => {
    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('Failed to fetch')))
    await expect(streamChat({ question: 'q' })).rejects.toMatchObject({ type: 'network', message: expect.stringContaining('无法连接服务器') })
  })
})

describe('conversation and dimension endpoints', () => {
  it('search, rename and delete call the documented routes', async () => {
    const { fetch, calls } = stubFetch(({ method }) =>
      method === 'DELETE' ? new Response(null, { status: 204 }) : jsonResponse(method === 'PATCH' ? { id: 'a b', title: '新名字' } : []),
    )
    vi.stubGlobal('fetch', fetch)
    await listConversations('  药占比 ')
    await listConversations()
    await expect(renameConversation('a b', '新名字')).resolves.toMatchObject({ title: '新名字' })
    await expect(deleteConversation('a b')).resolves.toBeUndefined()
    expect(calls.map((c) => [c.method, decodeURIComponent(c.url), c.body])).toEqual([
      ['GET', '/api/v1/conversations?q=药占比', undefined],
      ['GET', '/api/v1/conversations', undefined],
      ['PATCH', '/api/v1/conversations/a b', { title: '新名字' }],
      ['DELETE', '/api/v1/conversations/a b', undefined],
    ])
  })

  it('builds export and dimension URLs', async () => {
    expect(exportUrl('c-1', 'pdf', 2)).toBe('/api/v1/conversations/c-1/export?format=pdf&turn=2')
    expect(exportUrl('c-1', 'md')).toBe('/api/v1/conversations/c-1/export?format=md')
    const { fetch, calls } = stubFetch(() => jsonResponse([]))
    vi.stubGlobal('fetch', fetch)
    await listDimension('doctor', { q: '韦', department: '心血管内科' })
    expect(decodeURIComponent(calls[0].url)).toBe('/api/v1/dimensions/doctor?q=韦&department=心血管内科')
  })

  it('passes a 404 on as an ApiError with its status', async () => {
    const body = { error: { message: '会话不存在', type: 'not_found', param: null, valid: [], suggestions: [] } }
    vi.stubGlobal('fetch', stubFetch(() => jsonResponse(body, 404)).fetch)
    await expect(deleteConversation('gone')).rejects.toMatchObject({ status: 404, message: '会话不存在' })
  })
})

describe('the session on each request', () => {
  afterEach(() => {
    setCsrfToken(null)
    setUnauthorizedHandler(null)
    document.cookie = 'opsbrain_csrf=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/'
  })

  it('sends the cookie and, on a change only, the CSRF token (the cookie wins over the login answer)', async () => {
    const { fetch, calls } = stubFetch(({ method }) => (method === 'DELETE' ? new Response(null, { status: 204 }) : jsonResponse([])))
    vi.stubGlobal('fetch', fetch)
    await deleteConversation('x')
    setCsrfToken('from-login')
    await listConversations()
    await deleteConversation('x')
    document.cookie = 'opsbrain_csrf=from%20cookie; path=/'
    await deleteConversation('x')
    expect(calls.map((c) => [c.method, c.credentials, c.headers.get('X-CSRF-Token')])).toEqual([
      ['DELETE', 'same-origin', null],
      ['GET', 'same-origin', null],
      ['DELETE', 'same-origin', 'from-login'],
      ['DELETE', 'same-origin', 'from cookie'],
    ])
  })

  it('reports a 401 to the session, except from the sign-in calls themselves', async () => {
    const heard: string[] = []
    setUnauthorizedHandler((e) => heard.push(e.type))
    const body = (type: string) => ({ error: { message: '登录已过期，请重新登录', type } })
    vi.stubGlobal('fetch', stubFetch(({ url }) => jsonResponse(body(url.includes('/auth/') ? 'invalid_credentials' : 'session_expired'), 401)).fetch)
    await expect(login('ops', 'bad')).rejects.toMatchObject({ status: 401, type: 'invalid_credentials' })
    await expect(getMe()).rejects.toMatchObject({ status: 401 })
    expect(heard).toEqual([])
    await expect(listConversations()).rejects.toMatchObject({ status: 401 })
    await expect(streamChat({ question: 'q' })).rejects.toMatchObject({ status: 401, type: 'session_expired' })
    expect(heard).toEqual(['session_expired', 'session_expired'])
  })

  it('sends the CSRF token with the streamed chat request', async () => {
    setCsrfToken('tok')
    const { fetch, calls } = stubFetch(() => ({ fake: fakeStream([STREAM]) }))
    vi.stubGlobal('fetch', fetch)
    await streamChat({ question: 'q' })
    expect(calls[0].headers.get('X-CSRF-Token')).toBe('tok')
    expect(calls[0].headers.get('Accept')).toBe('text/event-stream')
    expect(calls[0].credentials).toBe('same-origin')
  })

  it('keeps the Retry-After of a 429', async () => {
    vi.stubGlobal(
      'fetch',
      stubFetch(() => new Response('{"error":{"message":"稍后再试","type":"rate_limited"}}', { status: 429, headers: { 'Retry-After': '12' } })).fetch,
    )
    await expect(login('a', 'b')).rejects.toMatchObject({ status: 429, retryAfterS: 12, message: '稍后再试' })
  })
})
