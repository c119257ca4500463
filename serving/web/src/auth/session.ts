// Who is signed in: one store for the page. At start GET /auth/me says whether the session cookie
// (HttpOnly: the page never reads it) is still good; 登录 posts the form and keeps the CSRF token
// the answer carries; 退出登录 asks the server to drop the session. Any other request answering
// 401 (the session ran out while the page was open) comes here through http.ts and shows the form
// again over the page, which stays mounted so that nothing typed in it is lost.
import { computed, reactive, readonly } from 'vue'
import { getMe, login as postLogin, logout as postLogout } from '../api/client'
import { ApiError, setCsrfToken, setUnauthorizedHandler } from '../api/http'
import type { AuthUser } from '../api/types'

/**
 * checking: /auth/me is on its way · signed_out: show the form · signed_in: show the page ·
 * unreachable: /auth/me failed without an answer about the session (network, server error).
 */
export type SessionStatus = 'checking' | 'signed_out' | 'signed_in' | 'unreachable'

export const EXPIRED_MESSAGE = '登录已过期，请重新登录'

interface SessionState {
  status: SessionStatus
  user: AuthUser | null
  /** the form is shown again after the session ran out (the page is kept under it) */
  expired: boolean
  /** why /auth/me failed (status unreachable) */
  error: string
  /** bumped when the page must start afresh: another user signed in, or 退出登录 */
  generation: number
}

const state = reactive<SessionState>({ status: 'checking', user: null, expired: false, error: '', generation: 0 })
let started: Promise<void> | null = null

function signedIn(user: AuthUser, csrf: string | null): void {
  if (csrf !== null) setCsrfToken(csrf)
  // the page under the form belonged to someone else: theirs must not be shown to this user
  if (state.user && state.user.name !== user.name) state.generation++
  Object.assign(state, { status: 'signed_in', user, expired: false, error: '' })
}

/** After a 401: the form again, but the page and the user of the page are kept. */
function expire(): void {
  if (state.status !== 'signed_in') return
  state.status = 'signed_out'
  state.expired = true
}

/** Asks /auth/me; a 401 means sign in. A server without sign-in (404) lets the page in anonymously. */
async function check(): Promise<void> {
  state.status = 'checking'
  state.error = ''
  try {
    signedIn(await getMe(), null)
  } catch (err) {
    const error = err instanceof ApiError ? err : new ApiError(String(err), 0, 'client_error')
    if (error.status === 401) {
      state.status = 'signed_out'
    } else if (error.status === 404) {
      Object.assign(state, { status: 'signed_in', user: null, expired: false })
    } else {
      Object.assign(state, { status: 'unreachable', error: error.message })
    }
  }
}

/** Signs in; rejects with the server's ApiError (用户名或密码错误, 429 with retryAfterS…). */
async function login(username: string, password: string): Promise<AuthUser> {
  const answer = await postLogin(username, password)
  signedIn(answer.user, answer.csrf_token)
  return answer.user
}

/** 退出登录: the server drops the session; the page is thrown away with it. */
async function logout(): Promise<void> {
  try {
    await postLogout()
  } catch (err) {
    // 401: the session had already ended, which is what was asked for
    if (!(err instanceof ApiError && err.status === 401)) throw err
  }
  setCsrfToken(null)
  Object.assign(state, { status: 'signed_out', user: null, expired: false, error: '' })
  state.generation++
}

/** Starts the first /auth/me and the 401 listener, once per page. */
function start(): Promise<void> {
  if (!started) {
    setUnauthorizedHandler(expire)
    started = check()
  }
  return started
}

export function useSession() {
  return {
    state: readonly(state),
    user: computed(() => state.user),
    signedIn: computed(() => state.status === 'signed_in'),
    start,
    check,
    login,
    logout,
    expire,
  }
}

export type Session = ReturnType<typeof useSession>

/** Tests: back to a page that has not asked yet. */
export function resetSessionForTests(): void {
  started = null
  setUnauthorizedHandler(null)
  setCsrfToken(null)
  Object.assign(state, { status: 'checking', user: null, expired: false, error: '', generation: 0 })
}
