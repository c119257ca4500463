// The one place the page talks HTTP: JSON in and out, a timeout, and the API's error shape turned
// into an ApiError whose message a user can read. Every request carries the session cookie
// (credentials: same-origin) and, on a method that changes something, the CSRF token; a 401 from
// anything but the sign-in calls themselves tells the session (auth/session.ts) to ask again.
import type { ApiErrorBody } from './types'

export const API = '/api/v1'
export const DEFAULT_TIMEOUT_MS = 60_000

// --- session: CSRF token and the "signed out" signal ------------------------------------------

export const CSRF_COOKIE = 'opsbrain_csrf'
export const CSRF_HEADER = 'X-CSRF-Token'
const SAFE_METHODS = ['GET', 'HEAD', 'OPTIONS']

let csrfFromLogin: string | null = null

/** The token of the login response; null forgets it (after 退出登录). */
export function setCsrfToken(token: string | null): void {
  csrfFromLogin = token
}

/** The cookie the server set (it survives a reload); else the token the login response carried. */
export function csrfToken(): string | null {
  for (const part of document.cookie ? document.cookie.split(';') : []) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === CSRF_COOKIE) {
      const value = part.slice(eq + 1).trim()
      if (value) {
        try {
          return decodeURIComponent(value)
        } catch {
          return value
        }
      }
    }
  }
  return csrfFromLogin
}

/** The headers every API request carries: the CSRF token on POST/PATCH/DELETE, plus `extra`. */
export function apiHeaders(method: string | undefined, extra: HeadersInit | undefined = {}): Headers {
  const headers = new Headers(extra)
  const token = csrfToken()
  if (!SAFE_METHODS.includes((method ?? 'GET').toUpperCase()) && token && !headers.has(CSRF_HEADER)) {
    headers.set(CSRF_HEADER, token)
  }
  return headers
}

type UnauthorizedHandler = (error: ApiError) => void
let onUnauthorized: UnauthorizedHandler | null = null

/** Who hears of a 401 (the session, which shows the sign-in form again); returns the undo. */
export function setUnauthorizedHandler(handler: UnauthorizedHandler | null): () => void {
  onUnauthorized = handler
  return () => {
    if (onUnauthorized === handler) onUnauthorized = null
  }
}

/** The sign-in calls answer 401 for a wrong password or no session: their caller handles it. */
const AUTH_PATHS = ['/auth/login', '/auth/me', '/auth/logout']

/** Tells the session that the server no longer knows us (any 401 outside the sign-in calls). */
export function reportUnauthorized(path: string, error: ApiError): void {
  if (error.status === 401 && !AUTH_PATHS.some((p) => path.startsWith(p))) onUnauthorized?.(error)
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number, // 0: no response (network down or timed out)
    readonly type: string,
    readonly valid: string[] = [],
    readonly suggestions: string[] = [],
    readonly retryAfterS: number | null = null, // 429: seconds the server asks us to wait
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
    const headers = apiHeaders(init.method, init.headers)
    if (init.body && typeof init.body === 'string' && !headers.has('Content-Type')) headers.set('Content-Type', 'application/json')
    response = await fetch(API + path, {
      ...init,
      credentials: 'same-origin',
      signal: controller.signal,
      headers,
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
  if (!response.ok) {
    const error = await errorFrom(response)
    reportUnauthorized(path, error)
    throw error
  }
  return response
}

export async function errorFrom(response: Response): Promise<ApiError> {
  const header = response.headers?.get('Retry-After') ?? null // seconds (an HTTP date is not used here)
  const retry = header === null || header.trim() === '' ? NaN : Number(header)
  const retryAfterS = Number.isFinite(retry) && retry >= 0 ? Math.ceil(retry) : null
  try {
    const body = (await response.json()) as ApiErrorBody
    const e = body.error
    return new ApiError(e.message, response.status, e.type, e.valid ?? [], e.suggestions ?? [], retryAfterS)
  } catch {
    const fallback: Record<number, [string, string]> = {
      401: ['登录已过期，请重新登录', 'not_authenticated'],
      403: ['没有权限访问这些数据', 'forbidden'],
      429: ['尝试次数过多，请稍后再试', 'rate_limited'],
    }
    const [message, type] = fallback[response.status] ?? [`服务器错误（HTTP ${response.status}），请稍后重试`, 'http_error']
    return new ApiError(message, response.status, type, [], [], retryAfterS)
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
