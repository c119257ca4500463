// The one place the page talks HTTP: JSON in and out, a timeout, and the API's error shape turned
// into an ApiError whose message a user can read.
import type { ApiErrorBody } from './types'

export const API = '/api/v1'
export const DEFAULT_TIMEOUT_MS = 60_000

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number, // 0: no response (network down or timed out)
    readonly type: string,
    readonly valid: string[] = [],
    readonly suggestions: string[] = [],
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export async function request<T>(path: string, init: RequestInit = {}, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
  const response = await send(path, init, timeoutMs)
  if (response.status === 204) return undefined as T
  return (await response.json()) as T
}

/** fetch with a timeout; any non-2xx answer is thrown as an ApiError carrying the server's message. */
export async function send(path: string, init: RequestInit = {}, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Response> {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(new DOMException('timeout', 'TimeoutError')), timeoutMs)
  const outer = init.signal
  outer?.addEventListener('abort', () => controller.abort(outer.reason))
  let response: Response
  try {
    response = await fetch(API + path, {
      ...init,
      signal: controller.signal,
      headers: init.body && typeof init.body === 'string' ? { 'Content-Type': 'application/json', ...init.headers } : init.headers,
    })
  } catch (err) {
    if (controller.signal.aborted && controller.signal.reason instanceof DOMException && controller.signal.reason.name === 'TimeoutError') {
      throw new ApiError(`请求超时（${Math.round(timeoutMs / 1000)} 秒无响应），请稍后重试`, 0, 'timeout')
    }
    if (outer?.aborted) throw err
    throw new ApiError('无法连接服务器，请检查网络或联系信息科', 0, 'network')
  } finally {
    clearTimeout(timer)
  }
  if (!response.ok) throw await errorFrom(response)
  return response
}

export async function errorFrom(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as ApiErrorBody
    const e = body.error
    return new ApiError(e.message, response.status, e.type, e.valid ?? [], e.suggestions ?? [])
  } catch {
    return new ApiError(`服务器错误（HTTP ${response.status}），请稍后重试`, response.status, 'http_error')
  }
}

export const getJSON = <T>(path: string, timeoutMs?: number) => request<T>(path, {}, timeoutMs)
export const postJSON = <T>(path: string, body: unknown, timeoutMs?: number) =>
  request<T>(path, { method: 'POST', body: JSON.stringify(body) }, timeoutMs)
export const patchJSON = <T>(path: string, body: unknown, timeoutMs?: number) =>
  request<T>(path, { method: 'PATCH', body: JSON.stringify(body) }, timeoutMs)
export const deleteJSON = (path: string, timeoutMs?: number) => request<void>(path, { method: 'DELETE' }, timeoutMs)

/** `?a=1&b=2` from the parameters that have a value ('' and null/undefined are left out), or ''. */
export function queryString(params: Record<string, string | number | null | undefined>): string {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value))
  }
  const text = search.toString()
  return text ? `?${text}` : ''
}
