// Signing in, as the page does it against a mocked server: the form when /auth/me answers 401, the
// server's message for a wrong password, the CSRF token on what changes something, the form again
// (over the page, nothing typed lost) when a request answers 401, and 退出登录.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { defineComponent, h } from 'vue'
import AuthGate from './AuthGate.vue'
import { resetSessionForTests } from './session'
import { fakeStream, jsonResponse, sseFrame, stubFetch, type Call } from '../api/testing'

vi.mock('../answer/AnswerDetails.vue', () => ({
  default: defineComponent({ props: { response: Object }, setup: () => () => h('div', { 'data-testid': 'details-stub' }) }),
}))
vi.mock('../catalog/IndicatorBrowser.vue', () => ({ default: defineComponent({ setup: () => () => h('div') }) }))

const USER = {
  name: '王运营',
  role: 'operations',
  role_label: '运营管理部',
  scope: '全院',
  capabilities: ['query', 'export'],
  method: 'session',
}
const META = { version: '0.1.0', as_of: '2023-09-08', data_start: '2019-01-01', warehouse: 'duckdb', generator: {} }
const unauthenticated = (type = 'not_authenticated', message = '请先登录') => jsonResponse({ error: { message, type } }, 401)

let stub: ReturnType<typeof stubFetch>
let wrapper: VueWrapper
let signedIn: boolean
type Answer = Response | { fake: ReturnType<typeof fakeStream> }
/** a test's own answers, before the default server; a promise of undefined falls through to it */
let route: (call: Call) => Answer | Promise<Answer | undefined> | undefined

function clearCookie() {
  document.cookie = 'opsbrain_csrf=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/'
}

beforeEach(() => {
  resetSessionForTests()
  clearCookie()
  history.replaceState(null, '', '/')
  signedIn = false
  route = () => undefined
  stub = stubFetch(async (call) => {
    const special = await route(call)
    if (special) return special
    const { url, body } = call
    if (url.endsWith('/auth/me')) return signedIn ? jsonResponse(USER) : unauthenticated()
    if (url.endsWith('/auth/login')) {
      const { username, password } = body as { username: string; password: string }
      if (username !== 'ops' || password !== 'secret') {
        return jsonResponse({ error: { message: '用户名或密码错误', type: 'invalid_credentials' } }, 401)
      }
      signedIn = true
      return jsonResponse({ user: USER, csrf_token: 'tok-login' })
    }
    if (url.endsWith('/auth/logout')) {
      signedIn = false
      return jsonResponse(null, 204)
    }
    if (!signedIn) return unauthenticated('session_expired', '登录已过期，请重新登录')
    if (url.endsWith('/meta')) return jsonResponse(META)
    if (url.includes('/chat/stream')) {
      const question = (body as { question: string }).question
      return { fake: fakeStream([sseFrame('done', { question, answer: '回答', conversation_id: 'c-1', plan: { calls: [] } })]) }
    }
    return jsonResponse([])
  })
  vi.stubGlobal('fetch', stub.fetch)
})
afterEach(() => {
  wrapper?.unmount()
  vi.unstubAllGlobals()
  clearCookie()
})

async function mountGate() {
  wrapper = mount(AuthGate, { global: { plugins: [ElementPlus] }, attachTo: document.body })
  await flushPromises()
}

async function signIn(username = 'ops', password = 'secret') {
  await wrapper.get('[data-testid=login-username]').setValue(username)
  await wrapper.get('[data-testid=login-password]').setValue(password)
  await wrapper.get('[data-testid=login-form]').trigger('submit')
  await flushPromises()
}

const callsTo = (part: string) => stub.calls.filter((c) => c.url.includes(part))

describe('sign-in', () => {
  it('shows the form when /auth/me answers 401, and the app with the user after signing in', async () => {
    await mountGate()
    expect(wrapper.find('[data-testid=login-view]').exists()).toBe(true)
    expect(wrapper.find('.app-header').exists()).toBe(false)
    expect(wrapper.text()).toContain('用户名')
    expect(wrapper.text()).toContain('密码')
    // nothing else was asked while signed out
    expect(stub.calls.map((c) => c.url)).toEqual(['/api/v1/auth/me'])

    await signIn()
    expect(callsTo('/auth/login')[0]).toMatchObject({ method: 'POST', body: { username: 'ops', password: 'secret' }, credentials: 'same-origin' })
    expect(wrapper.find('[data-testid=login-view]').exists()).toBe(false)
    expect(wrapper.get('[data-testid=user-name]').text()).toBe('王运营')
    expect(wrapper.get('[data-testid=user-role]').text()).toBe('运营管理部 · 全院')
    expect(wrapper.get('[data-testid=logout]').text()).toContain('退出登录')
    expect(wrapper.text()).toContain('数据截至 2023-09-08')
  })

  it('opens the app straight away when the session cookie is still good', async () => {
    signedIn = true
    await mountGate()
    expect(wrapper.find('[data-testid=login-view]').exists()).toBe(false)
    expect(wrapper.get('[data-testid=user-name]').text()).toBe('王运营')
  })

  it("shows the server's message for a wrong password and stays on the form", async () => {
    await mountGate()
    await signIn('ops', 'wrong')
    expect(wrapper.get('[data-testid=login-error]').text()).toContain('用户名或密码错误')
    expect(wrapper.find('.app-header').exists()).toBe(false)
    expect((wrapper.get('[data-testid=login-password]').element as HTMLInputElement).value).toBe('') // typed again
    expect((wrapper.get('[data-testid=login-username]').element as HTMLInputElement).value).toBe('ops')
  })

  it('submits with Enter, and is disabled while the answer is on its way', async () => {
    let answer!: () => void
    const held = new Promise<void>((resolve) => (answer = resolve))
    route = ({ url }) => (url.endsWith('/auth/login') ? held.then(() => undefined) : undefined)
    await mountGate()
    await wrapper.get('[data-testid=login-username]').setValue('ops')
    await wrapper.get('[data-testid=login-password]').setValue('secret')
    await wrapper.get('[data-testid=login-password]').trigger('keydown', { key: 'Enter' })
    await flushPromises()
    expect(callsTo('/auth/login')).toHaveLength(1)
    expect(wrapper.get('[data-testid=login-submit]').attributes('disabled')).toBeDefined()
    expect(wrapper.get('[data-testid=login-password]').attributes('disabled')).toBeDefined()
    // a second Enter while waiting sends nothing more
    await wrapper.get('[data-testid=login-password]').trigger('keydown', { key: 'Enter' })
    expect(callsTo('/auth/login')).toHaveLength(1)
    answer()
    await flushPromises()
    expect(wrapper.get('[data-testid=user-name]').text()).toBe('王运营')
  })

  it('waits as long as the server asks after too many attempts', async () => {
    route = ({ url }) =>
      url.endsWith('/auth/login')
        ? new Response(JSON.stringify({ error: { message: '登录尝试次数过多，请稍后再试', type: 'rate_limited' } }), {
            status: 429,
            headers: { 'Content-Type': 'application/json', 'Retry-After': '30' },
          })
        : undefined
    await mountGate()
    await signIn()
    expect(wrapper.get('[data-testid=login-error]').text()).toContain('登录尝试次数过多')
    const button = wrapper.get('[data-testid=login-submit]')
    expect(button.text()).toBe('请 30 秒后再试')
    expect(button.attributes('disabled')).toBeDefined()
  })
})

describe('the session on every request', () => {
  it('sends the CSRF token of the login answer on POST, PATCH and DELETE, never on GET', async () => {
    await mountGate()
    await signIn()
    const gets = stub.calls.filter((c) => c.method === 'GET')
    expect(gets.length).toBeGreaterThan(0)
    expect(gets.every((c) => c.credentials === 'same-origin' && !c.headers.has('X-CSRF-Token'))).toBe(true)

    await wrapper.findAll('[data-testid=suggested-question]')[0].trigger('click')
    await vi.waitFor(() => expect(wrapper.find('[data-testid=details-stub]').exists()).toBe(true))
    const [stream] = callsTo('/chat/stream')
    expect(stream.method).toBe('POST')
    expect(stream.credentials).toBe('same-origin')
    expect(stream.headers.get('X-CSRF-Token')).toBe('tok-login')

    const { renameConversation, deleteConversation } = await import('../api/client')
    await renameConversation('c-1', '新标题')
    await deleteConversation('c-1').catch(() => undefined)
    expect(callsTo('/conversations/c-1').map((c) => [c.method, c.headers.get('X-CSRF-Token')])).toEqual([
      ['PATCH', 'tok-login'],
      ['DELETE', 'tok-login'],
    ])
  })

  it('reads the token from the opsbrain_csrf cookie after a reload', async () => {
    signedIn = true
    document.cookie = 'opsbrain_csrf=tok-cookie; path=/'
    await mountGate()
    await wrapper.get('[data-testid=logout]').trigger('click')
    await flushPromises()
    const [logout] = callsTo('/auth/logout')
    expect(logout.method).toBe('POST')
    expect(logout.headers.get('X-CSRF-Token')).toBe('tok-cookie')
  })

  it('shows the form again over the page on a 401, keeping the question being typed', async () => {
    await mountGate()
    await signIn()
    const box = () => wrapper.get('[data-testid=question-input] textarea')
    await box().setValue('本年各科室药占比排名')
    signedIn = false // the session runs out on the server; the next request (any) answers 401
    const { listConversations } = await import('../api/client')
    await expect(listConversations()).rejects.toMatchObject({ status: 401 })
    await flushPromises()

    const login = wrapper.get('[data-testid=login-view]')
    expect(login.classes()).toContain('overlay')
    expect(wrapper.find('[data-testid=login-expired]').text()).toContain('登录已过期')
    expect(wrapper.get('.gate-app').attributes('inert')).toBeDefined()
    expect((box().element as HTMLTextAreaElement).value).toBe('本年各科室药占比排名')

    await signIn()
    expect(wrapper.find('[data-testid=login-view]').exists()).toBe(false)
    expect(wrapper.get('.gate-app').attributes('inert')).toBeUndefined()
    expect((box().element as HTMLTextAreaElement).value).toBe('本年各科室药占比排名')
  })

  it('routes a 401 of the chat stream to the form too; the question can be asked again', async () => {
    await mountGate()
    await signIn()
    signedIn = false
    await wrapper.findAll('[data-testid=suggested-question]')[0].trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid=login-view]').exists()).toBe(true)
    expect(wrapper.get('[data-testid=user-message]').text()).toContain('登录已过期')
    await signIn()
    expect(wrapper.find('[data-testid=login-view]').exists()).toBe(false)
    expect(wrapper.find('[data-testid=user-message]').exists()).toBe(true) // with its 重试
  })

  it("shows the server's message for data out of the user's scope", async () => {
    route = ({ url }) =>
      url.includes('/chat/stream')
        ? jsonResponse({ error: { message: '您只能查看心血管内科的数据', type: 'out_of_scope' } }, 403)
        : undefined
    await mountGate()
    await signIn()
    await wrapper.findAll('[data-testid=suggested-question]')[0].trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid=login-view]').exists()).toBe(false)
    expect(wrapper.get('[data-testid=user-message]').text()).toContain('您只能查看心血管内科的数据')
  })

  it('退出登录 drops the session and the page, and shows the form', async () => {
    await mountGate()
    await signIn()
    await wrapper.get('[data-testid=logout]').trigger('click')
    await flushPromises()
    expect(callsTo('/auth/logout')[0].headers.get('X-CSRF-Token')).toBe('tok-login')
    expect(wrapper.find('[data-testid=login-view]').exists()).toBe(true)
    expect(wrapper.find('[data-testid=login-view]').classes()).not.toContain('overlay')
    expect(wrapper.find('.app-header').exists()).toBe(false)
  })
})
