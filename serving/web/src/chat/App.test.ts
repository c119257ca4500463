// The page put together: header, view switch, the catalog's "ask", the filter bar's re-run and the
// list refresh after an answer. AnswerDetails and IndicatorBrowser (other parts of the page) are stubbed.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { defineComponent, h } from 'vue'
import App from '../App.vue'
import FilterBar from './FilterBar.vue'
import { fakeStream, jsonResponse, sseFrame, stubFetch } from '../api/testing'

vi.mock('../answer/AnswerDetails.vue', () => ({
  default: defineComponent({ props: { response: Object }, setup: () => () => h('div', { 'data-testid': 'details-stub' }) }),
}))
vi.mock('../catalog/IndicatorBrowser.vue', () => ({
  default: defineComponent({
    emits: ['ask'],
    setup: (_, { emit }) => () => h('button', { 'data-testid': 'catalog-ask', onClick: () => emit('ask', '药占比的计算口径是什么') }),
  }),
}))

let stub: ReturnType<typeof stubFetch>
let wrapper: VueWrapper

beforeEach(() => {
  history.replaceState(null, '', '/') // the conversation URL of one test must not open in the next
  stub = stubFetch(({ url, body }) => {
    if (url.endsWith('/meta')) return jsonResponse({ version: '0.1.0', as_of: '2023-09-08', data_start: '2019-01-01', warehouse: 'duckdb', generator: {} })
    if (url.includes('/chat/stream')) {
      const question = (body as { question: string }).question
      return { fake: fakeStream([sseFrame('answer', { delta: '回答' }), sseFrame('done', { question, answer: '回答', conversation_id: 'c-7', plan: { calls: [] } })]) }
    }
    return jsonResponse([])
  })
  vi.stubGlobal('fetch', stub.fetch)
})
afterEach(() => {
  wrapper?.unmount()
  vi.unstubAllGlobals()
})

const streamBodies = () => stub.calls.filter((c) => c.url.includes('/chat/stream')).map((c) => c.body)
const listCalls = () => stub.calls.filter((c) => c.url.startsWith('/api/v1/conversations')).length

describe('App', () => {
  it('shows the data cut-off and switches views; the catalog asks in a new conversation', async () => {
    wrapper = mount(App, { global: { plugins: [ElementPlus] }, attachTo: document.body })
    await flushPromises()
    expect(wrapper.find('.brand').text()).toBe('opsbrain 医院运营助手')
    expect(wrapper.text()).toContain('数据截至 2023-09-08')
    expect(wrapper.findComponent(FilterBar).props('asOf')).toBe('2023-09-08')

    await wrapper.find('[data-testid=view-catalog]').trigger('click')
    expect(wrapper.find('.catalog').isVisible()).toBe(true)
    expect(wrapper.find('.body').isVisible()).toBe(false)
    await wrapper.find('[data-testid=catalog-ask]').trigger('click')
    await flushPromises()
    expect(wrapper.find('.body').isVisible()).toBe(true)
    expect(streamBodies()).toEqual([{ question: '药占比的计算口径是什么' }])
    await vi.waitFor(() => expect(wrapper.find('[data-testid=details-stub]').exists()).toBe(true))
  })

  it('labels demo data and says which parts of a degraded server do not work', async () => {
    stub = stubFetch(({ url }) => {
      if (url.endsWith('/meta')) return jsonResponse({ version: '0.1.0', as_of: '2023-09-08', data_start: '2019-01-01', warehouse: 'duckdb', generator: { seed: '1' }, synthetic: true })
      if (url.endsWith('/health'))
        return jsonResponse({
          status: 'degraded',
          synthetic: true,
          warehouse: { status: 'ok', detail: '数据截至 2023-09-08' },
          index: { status: 'degraded', detail: '索引为空：请运行 opsbrain kb ingest' },
          planner: { status: 'ok', detail: 'rules' },
        })
      return jsonResponse([])
    })
    vi.stubGlobal('fetch', stub.fetch)
    wrapper = mount(App, { global: { plugins: [ElementPlus] }, attachTo: document.body })
    await flushPromises()
    expect(wrapper.find('[data-testid=demo-tag]').text()).toBe('演示数据')
    const degraded = wrapper.find('[data-testid=degraded]')
    expect(degraded.text()).toBe('部分功能不可用')
    expect(degraded.attributes('title')).toBe('政策索引：索引为空：请运行 opsbrain kb ingest')
  })

  it('shows neither label for a hospital warehouse on a healthy server', async () => {
    wrapper = mount(App, { global: { plugins: [ElementPlus] }, attachTo: document.body })
    await flushPromises()
    expect(wrapper.find('[data-testid=demo-tag]').exists()).toBe(false)
    expect(wrapper.find('[data-testid=degraded]').exists()).toBe(false)
  })

  it('re-runs the last question with the filter scope in the same conversation, and refreshes the list', async () => {
    wrapper = mount(App, { global: { plugins: [ElementPlus] }, attachTo: document.body })
    await flushPromises()
    const bar = wrapper.findComponent(FilterBar)
    // filters can be set before the first question: the bar is open, and says nothing is asked yet
    expect(bar.props('disabled')).toBe(false)
    expect(bar.props('hasQuestion')).toBe(false)
    const listed = listCalls()

    await wrapper.findAll('[data-testid=suggested-question]')[3].trigger('click')
    await vi.waitFor(() => expect(wrapper.find('[data-testid=details-stub]').exists()).toBe(true))
    await flushPromises()
    expect(listCalls()).toBe(listed + 1) // the new conversation appears in the list
    expect(bar.props('disabled')).toBe(false)

    bar.vm.$emit('apply', { campus: ['东院区'], start: '2023-01-01', end: '2023-06-30' })
    await vi.waitFor(() => expect(wrapper.findAll('[data-testid=details-stub]')).toHaveLength(2))
    expect(streamBodies()[1]).toEqual({
      question: '本年各院区的出院人次',
      conversation_id: 'c-7',
      scope: { campus: ['东院区'], start: '2023-01-01', end: '2023-06-30' },
    })
    const bubbles = wrapper.findAll('[data-testid=user-message]')
    expect(bubbles[1].text()).toContain('筛选：东院区 · 2023年上半年')
    expect(bubbles[0].text()).not.toContain('筛选')
  })

  it('keeps filters set before asking for the first question and the ones after it', async () => {
    wrapper = mount(App, { global: { plugins: [ElementPlus] }, attachTo: document.body })
    await flushPromises()
    const bar = wrapper.findComponent(FilterBar)
    bar.vm.$emit('apply', { department: ['消化内科'], start: '2022-01-01', end: '2022-12-31' })
    await flushPromises()
    expect(streamBodies()).toHaveLength(0) // nothing to ask again yet: the scope waits
    expect(bar.props('standing')).toBe(true)
    await wrapper.findAll('[data-testid=suggested-question]')[0].trigger('click')
    await vi.waitFor(() => expect(wrapper.find('[data-testid=details-stub]').exists()).toBe(true))
    expect((streamBodies()[0] as { scope?: unknown }).scope).toEqual({ department: ['消化内科'], start: '2022-01-01', end: '2022-12-31' })
    expect(wrapper.find('[data-testid=user-message]').text()).toContain('消化内科')
    bar.vm.$emit('clear')
    await flushPromises()
    expect(bar.props('standing')).toBe(false)
  })

  it('gives each conversation a URL that opens it again', async () => {
    wrapper = mount(App, { global: { plugins: [ElementPlus] }, attachTo: document.body })
    await flushPromises()
    await wrapper.findAll('[data-testid=suggested-question]')[0].trigger('click')
    await vi.waitFor(() => expect(window.location.hash).toBe('#/c/c-7'))
    wrapper.unmount()
    const before = stub.calls.length
    wrapper = mount(App, { global: { plugins: [ElementPlus] }, attachTo: document.body })
    await flushPromises()
    expect(stub.calls.slice(before).some((c) => c.url === '/api/v1/conversations/c-7')).toBe(true)
  })

  it('puts the cursor in the question box on / and Ctrl+K', async () => {
    wrapper = mount(App, { global: { plugins: [ElementPlus] }, attachTo: document.body })
    await flushPromises()
    const box = wrapper.find('[data-testid=question-input] textarea').element
    ;(document.activeElement as HTMLElement | null)?.blur()
    document.body.dispatchEvent(new KeyboardEvent('keydown', { key: '/', bubbles: true }))
    await flushPromises()
    expect(document.activeElement).toBe(box)
    ;(box as HTMLElement).blur()
    document.body.dispatchEvent(new KeyboardEvent('keydown', { key: 'k', ctrlKey: true, bubbles: true }))
    await flushPromises()
    expect(document.activeElement).toBe(box)
  })
})
