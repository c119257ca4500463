// Typed functions for the public API the chat page uses (docs/api.md), and the streaming chat
// request. Everything goes through http.ts or, for the stream, through the same error shape.
import {
  API,
  ApiError,
  apiHeaders,
  deleteJSON,
  errorFrom,
  getJSON,
  patchJSON,
  postJSON,
  queryString,
  reportUnauthorized,
} from './http'
import { SseParser, type SseEvent } from './sse'
import type {
  ApiErrorBody,
  AuthUser,
  ChatRequest,
  ChatResponse,
  Conversation,
  ConversationSummary,
  DimensionMember,
  DimensionName,
  ExportFormat,
  Health,
  IndicatorDetail,
  IndicatorQuery,
  IndicatorSummary,
  LoginResponse,
  Plan,
  QueryResult,
  ToolResult,
  WarehouseInfo,
} from './types'

/** An answer can take a while (the llm planner); /chat waits longer than the default 60 s. */
export const CHAT_TIMEOUT_MS = 180_000
/** The stream sends an event at each stage; this long without a byte means something is stuck. */
export const STREAM_IDLE_TIMEOUT_MS = 90_000

export const INTERRUPTED_MESSAGE = '连接中断，回答未完成，请重试'

// --- chat -------------------------------------------------------------------------------------

/** Drops what the server would treat as "not given" anyway, so requests stay minimal. */
function chatBody(body: ChatRequest): ChatRequest {
  const out: ChatRequest = { question: body.question }
  if (body.conversation_id) out.conversation_id = body.conversation_id
  if (body.scope && Object.keys(body.scope).length) out.scope = body.scope
  return out
}

export const chat = (body: ChatRequest) => postJSON<ChatResponse>('/chat', chatBody(body), CHAT_TIMEOUT_MS)

export interface StreamHandlers {
  onPlan?: (plan: Plan) => void
  onResults?: (results: ToolResult[]) => void
  onDelta?: (delta: string) => void
  onDone?: (response: ChatResponse) => void
  /** Every failure except the caller's own abort (which only rejects, with type 'aborted'). */
  onError?: (error: ApiError) => void
}

export interface StreamOptions {
  signal?: AbortSignal
  idleTimeoutMs?: number
}

/**
 * POST /api/v1/chat/stream and report its events to `handlers` as they arrive. Resolves with the
 * `done` response; rejects with an ApiError: the server's JSON error before the stream (422, 404,
 * 413), an `error` event, no byte for `idleTimeoutMs` (type 'timeout'), the stream ending without
 * `done` (type 'interrupted'), or the caller aborting through `signal` (type 'aborted').
 */
export async function streamChat(
  body: ChatRequest,
  handlers: StreamHandlers = {},
  { signal, idleTimeoutMs = STREAM_IDLE_TIMEOUT_MS }: StreamOptions = {},
): Promise<ChatResponse> {
  const controller = new AbortController()
  let timedOut = false
  let timer: ReturnType<typeof setTimeout> | undefined
  const arm = () => {
    clearTimeout(timer)
    timer = setTimeout(() => {
      timedOut = true
      controller.abort()
    }, idleTimeoutMs)
  }
  const onAbort = () => controller.abort()
  if (signal?.aborted) controller.abort()
  signal?.addEventListener('abort', onAbort)

  // why the request stopped, once it has: the caller, the idle timer, or else the network
  const failure = (err: unknown): ApiError => {
    if (err instanceof ApiError) return err
    if (timedOut) {
      return new ApiError(`服务器 ${Math.round(idleTimeoutMs / 1000)} 秒没有响应，已停止等待，请重试`, 0, 'timeout')
    }
    if (signal?.aborted) return new ApiError('已停止回答', 0, 'aborted')
    return new ApiError(INTERRUPTED_MESSAGE, 0, 'interrupted')
  }

  try {
    arm()
    let response: Response
    try {
      response = await fetch(`${API}/chat/stream`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: apiHeaders('POST', { 'Content-Type': 'application/json', Accept: 'text/event-stream' }),
        body: JSON.stringify(chatBody(body)),
        signal: controller.signal,
      })
    } catch (err) {
      if (timedOut || signal?.aborted) throw failure(err)
      throw new ApiError('无法连接服务器，请检查网络或联系信息科', 0, 'network')
    }
    if (!response.ok) {
      const error = await errorFrom(response)
      reportUnauthorized('/chat/stream', error)
      throw error
    }
    if (!response.body) throw new ApiError('浏览器不支持流式读取，请更换浏览器后重试', 0, 'unsupported')

    const reader = response.body.getReader()
    const decoder = new TextDecoder('utf-8')
    const parser = new SseParser()
    try {
      for (;;) {
        arm()
        const { value, done } = await reader.read()
        const events = done ? [...parser.push(decoder.decode()), ...parser.end()] : parser.push(decoder.decode(value, { stream: true }))
        for (const event of events) {
          const finished = dispatch(event, handlers, response.status)
          if (finished) {
            handlers.onDone?.(finished)
            return finished
          }
        }
        if (done) throw new ApiError(INTERRUPTED_MESSAGE, 0, 'interrupted')
      }
    } finally {
      // after `done` (or a failure) nothing more is wanted; cancelling also frees the connection
      reader.cancel().catch(() => undefined)
    }
  } catch (err) {
    const error = failure(err)
    if (error.type !== 'aborted') handlers.onError?.(error)
    throw error
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
  }
}

/** Hands one event to its handler; returns the response when it is the final `done`. */
function dispatch(event: SseEvent, handlers: StreamHandlers, status: number): ChatResponse | null {
  let data: unknown
  try {
    data = JSON.parse(event.data)
  } catch {
    throw new ApiError('服务器返回的数据无法解析，请重试', status, 'bad_event')
  }
  switch (event.event) {
    case 'plan':
      handlers.onPlan?.((data as { plan: Plan }).plan)
      return null
    case 'results':
      handlers.onResults?.((data as { tool_results: ToolResult[] }).tool_results)
      return null
    case 'answer':
      handlers.onDelta?.((data as { delta: string }).delta)
      return null
    case 'done':
      return data as ChatResponse
    case 'error': {
      const e = (data as Partial<ApiErrorBody>).error
      throw new ApiError(e?.message || '服务器出错，请重试', status, e?.type || 'server_error', e?.valid ?? [], e?.suggestions ?? [])
    }
    default:
      return null // an event this page does not know yet: ignored, for forward compatibility
  }
}

// --- sign-in (the session cookie is HttpOnly: the page only ever sees the CSRF token) -----------

export const getMe = () => getJSON<AuthUser>('/auth/me')

export const login = (username: string, password: string) =>
  postJSON<LoginResponse>('/auth/login', { username, password })

export const logout = () => postJSON<void>('/auth/logout', {})

// --- conversations ----------------------------------------------------------------------------

const conversationPath = (id: string) => `/conversations/${encodeURIComponent(id)}`

/** Newest first; `q` searches titles and message text on the server. */
export const listConversations = (q = '') =>
  getJSON<ConversationSummary[]>(`/conversations${queryString({ q: q.trim() })}`)

export const getConversation = (id: string) => getJSON<Conversation>(conversationPath(id))

export const renameConversation = (id: string, title: string) =>
  patchJSON<ConversationSummary>(conversationPath(id), { title })

export const deleteConversation = (id: string) => deleteJSON(conversationPath(id))

/**
 * Where the browser downloads a report: the whole conversation, or its `turn`-th question
 * (1-based). A plain URL, not a fetch: the browser shows its own download with the server's name.
 */
export const exportUrl = (id: string, format: ExportFormat, turn?: number) =>
  `${API}${conversationPath(id)}/export${queryString({ format, turn })}`

// --- indicator catalog ------------------------------------------------------------------------

export interface IndicatorFilter {
  q: string
  system: string // '' = all
  status: string // '' = all
}

export const indicatorsPath = (f: IndicatorFilter) =>
  `/indicators${queryString({ q: f.q.trim(), system: f.system, status: f.status })}`

export const listIndicators = (f: IndicatorFilter) => getJSON<IndicatorSummary[]>(indicatorsPath(f))

export const getIndicator = (code: string) => getJSON<IndicatorDetail>(`/indicators/${encodeURIComponent(code)}`)

export const queryIndicator = (q: IndicatorQuery) => postJSON<QueryResult>('/indicators/query', q)

// --- warehouse --------------------------------------------------------------------------------

export const getMeta = () => getJSON<WarehouseInfo>('/meta')

export const getHealth = () => getJSON<Health>('/health')

export const listDimension = (dimension: DimensionName, params: { q?: string; department?: string } = {}) =>
  getJSON<DimensionMember[]>(`/dimensions/${dimension}${queryString({ q: params.q?.trim(), department: params.department })}`)
