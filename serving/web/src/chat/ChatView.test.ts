import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { defineComponent, h } from 'vue'
import ChatView from './ChatView.vue'
import { useChat } from './useChat'
import { fakeStream, jsonResponse, sseFrame, stubFetch, type FakeStream } from '../api/testing'
import type { ChatResponse } from '../api/types'

// AnswerDetails belongs to another part of the page: a stub shows which response it was given and
// lets the test pick a clarification option
const seen: ChatResponse[] = []
vi.mock('../answer/AnswerDetails.vue', () => ({
  default: defineComponent({
    props: { response: { type: Object, required: true } },
    emits: ['choose'],
    setup(props, { emit }) {
      return () => {
        seen.push(props.response as ChatResponse)
        return h('button', { 'data-testid': 'details-stub', onClick: () => emit('choose', '耗占比') }, (props.response as ChatResponse).question)
      }
    },
  }),
}))

const QUESTION = '医院本年药占比是多少？包括同比'
const done = (over: Partial<ChatResponse> = {}) =>
  ({
    question: QUESTION,
    answer: '**药占比**（2023-01-01 至 2023-09-08）为 36.45%。同比下降 0.22百分点。',
    plan: { calls: [{ tool: 'query_indicator', arguments: {} }], clarification: null, refusal: null },
    tool_results: [],
    citations: [],
    chart: null,
    table: null,
    as_of: '2023-09-08',
    planner: 'rules',
    timings_ms: {},
    conversation_id: 'c-1',
    ...over,
  }) as ChatResponse

let streams: FakeStream[]
let stub: ReturnType<typeof stubFetch>
let wrapper: VueWrapper

function mountChat() {
  const chat = useChat()
  wrapper = mount(ChatView, { props: { chat }, global: { plugins: [ElementPlus] }, attachTo: document.body })
  return chat
}

const text = (testid: string) => wrapper.find(`[data-testid=${testid}]`).text()
const all = (testid: string) => wrapper.findAll(`[data-testid=${testid}]`)

async function type(question: string) {
  await wrapper.find('[data-testid=question-input] textarea').setValue(question)
}

beforeEach(() => {
  seen.length = 0
  streams = []
  stub = stubFetch(() => {
    const fake = fakeStream([], false)
    streams.push(fake)
    return { fake }
  })
  vi.stubGlobal('fetch', stub.fetch)
})
afterEach(() => {
  wrapper?.unmount()
  vi.unstubAllGlobals()
})

describe('ChatView', () => {
  it('streams an answer: status lines, growing text, then the details, and keeps the conversation', async () => {
    mountChat()
    expect(all('suggested-question').map((b) => b.text())).toContain(QUESTION)

    await type(QUESTION)
    await wrapper.find('[data-testid=question-input] textarea').trigger('keydown', { key: 'Enter' })
    await flushPromises()
    expect(stub.calls[0]).toMatchObject({ url: '/api/v1/chat/stream', body: { question: QUESTION } })
    expect(text('user-message')).toBe(QUESTION)
    expect(text('answer-status')).toBe('正在理解问题…')
    expect(wrapper.find('[data-testid=question-input] textarea').attributes('disabled')).toBeDefined()
    expect(wrapper.find('[data-testid=stop-button]').exists()).toBe(true)
    expect(all('suggested-question')).toHaveLength(0)

    const stream = streams[0]
    stream.push(sseFrame('plan', { plan: done().plan }))
    await vi.waitFor(() => expect(text('answer-status')).toBe('正在查询数据…'))
    stream.push(sseFrame('results', { tool_results: [] }))
    await vi.waitFor(() => expect(text('answer-status')).toBe('正在生成回答…'))
    stream.push(sseFrame('answer', { delta: '**药占比**（2023-01-01 至 2023-09-08）为 ' }))
    await vi.waitFor(() => expect(text('answer-text')).toBe('药占比（2023-01-01 至 2023-09-08）为'))
    expect(wrapper.find('[data-testid=answer-text] strong').text()).toBe('药占比')
    expect(text('answer-status')).toBe('正在生成回答…') // until done: the details are still to come
    expect(wrapper.find('[data-testid=details-stub]').exists()).toBe(false)

    stream.push(sseFrame('answer', { delta: '36.45%。同比下降 0.22百分点。' }))
    stream.push(sseFrame('done', done()))
    stream.close()
    await vi.waitFor(() => expect(wrapper.find('[data-testid=details-stub]').exists()).toBe(true))
    expect(wrapper.find('[data-testid=answer-status]').exists()).toBe(false)
    expect(text('answer-text')).toBe('药占比（2023-01-01 至 2023-09-08）为 36.45%。同比下降 0.22百分点。')
    expect(seen.at(-1)).toMatchObject({ conversation_id: 'c-1', question: QUESTION })
    expect(wrapper.find('[data-testid=stop-button]').exists()).toBe(false)
    expect(wrapper.find('[data-testid=export-xlsx]').attributes('href')).toBe('/api/v1/conversations/c-1/export?format=xlsx&turn=1')
    expect(wrapper.find('[data-testid=export-conversation-pdf]').attributes('href')).toBe('/api/v1/conversations/c-1/export?format=pdf')

    // the follow-up goes to the same conversation
    await type('按科室看')
    await wrapper.find('[data-testid=send-button]').trigger('click')
    await flushPromises()
    expect(stub.calls[1].body).toEqual({ question: '按科室看', conversation_id: 'c-1' })
    expect(all('user-message').map((m) => m.text())).toEqual([QUESTION, '按科室看'])
    streams[1].push(sseFrame('done', done({ question: '按科室看', answer: '第二个回答' })))
    await vi.waitFor(() => expect(all('details-stub')).toHaveLength(2))
    expect(wrapper.findAll('[data-testid=export-md]').map((a) => a.attributes('href'))).toEqual([
      '/api/v1/conversations/c-1/export?format=md&turn=1',
      '/api/v1/conversations/c-1/export?format=md&turn=2',
    ])

    // a clarification option chosen in the details is the next question
    await wrapper.findAll('[data-testid=details-stub]')[1].trigger('click')
    await flushPromises()
    expect(stub.calls[2].body).toEqual({ question: '耗占比', conversation_id: 'c-1' })
  })

  it('keeps a failed question with the message and retries it', async () => {
    const error = { error: { message: '会话不存在或已被删除', type: 'not_found', param: 'conversation_id', valid: [], suggestions: [] } }
    let fail = true
    stub = stubFetch(() => {
      if (fail) return jsonResponse(error, 404)
      return { fake: fakeStream([sseFrame('done', done())]) }
    })
    vi.stubGlobal('fetch', stub.fetch)
    mountChat()
    await all('suggested-question')[0].trigger('click')
    await vi.waitFor(() => expect(text('error-message')).toBe('会话不存在或已被删除'))
    expect(text('user-message')).toContain(QUESTION)
    expect(wrapper.find('[data-testid=assistant-message]').exists()).toBe(false)
    expect(wrapper.find('[data-testid=question-input] textarea').attributes('disabled')).toBeUndefined()

    fail = false
    await wrapper.find('[data-testid=retry-button]').trigger('click')
    await vi.waitFor(() => expect(wrapper.find('[data-testid=details-stub]').exists()).toBe(true))
    expect(all('user-message')).toHaveLength(1)
    expect(wrapper.find('[data-testid=error-message]').exists()).toBe(false)
  })

  it('stops an answer with 停止 and says so', async () => {
    const chat = mountChat()
    await type(QUESTION)
    await wrapper.find('[data-testid=send-button]').trigger('click')
    streams[0].push(sseFrame('answer', { delta: '部分回答' }))
    await vi.waitFor(() => expect(text('answer-text')).toBe('部分回答'))
    await wrapper.find('[data-testid=stop-button]').trigger('click')
    await vi.waitFor(() => expect(wrapper.text()).toContain('已停止生成'))
    expect(chat.busy.value).toBe(false)
    expect(wrapper.find('[data-testid=stop-button]').exists()).toBe(false)
  })

  it('stops an answer with Esc', async () => {
    const chat = mountChat()
    await type(QUESTION)
    await wrapper.find('[data-testid=send-button]').trigger('click')
    streams[0].push(sseFrame('answer', { delta: '部分回答' }))
    await vi.waitFor(() => expect(text('answer-text')).toBe('部分回答'))
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }))
    await vi.waitFor(() => expect(wrapper.text()).toContain('已停止生成'))
    expect(chat.busy.value).toBe(false)
  })

  it('keeps an over-long question whole, says so, and does not send it', async () => {
    mountChat()
    await type('药'.repeat(600))
    expect(text('too-long')).toContain('最长 500 字')
    expect(wrapper.find('[data-testid=send-button]').attributes('disabled')).toBeDefined()
    const box = wrapper.find('[data-testid=question-input] textarea').element as HTMLTextAreaElement
    expect(box.value).toHaveLength(600)
  })

  it('does not send on Shift+Enter or while an IME candidate is being confirmed', async () => {
    mountChat()
    await type(QUESTION)
    const box = wrapper.find('[data-testid=question-input] textarea')
    await box.trigger('keydown', { key: 'Enter', shiftKey: true })
    await box.trigger('keydown', { key: 'Enter', isComposing: true })
    await flushPromises()
    expect(stub.calls).toHaveLength(0)
  })

  it('shows a stored conversation as streamed answers look', async () => {
    const conversation = {
      id: 'c-9',
      title: '旧会话',
      created_at: '2026-12-02T00:53:50',
      updated_at: '2026-12-02T00:53:50',
      messages: [
        { role: 'user', content: QUESTION, response: null, created_at: '' },
        { role: 'assistant', content: '**旧**回答', response: { ...done(), conversation_id: undefined }, created_at: '' },
      ],
    }
    stub = stubFetch(() => jsonResponse(conversation))
    vi.stubGlobal('fetch', stub.fetch)
    const chat = mountChat()
    await chat.load('c-9')
    await flushPromises()
    expect(stub.calls[0].url).toBe('/api/v1/conversations/c-9')
    expect(text('user-message')).toBe(QUESTION)
    expect(text('answer-text')).toBe('旧回答')
    expect(seen.at(-1)?.conversation_id).toBe('c-9')
    expect(wrapper.find('.chat-title').text()).toBe('旧会话')
    expect(wrapper.find('[data-testid=export-pdf]').attributes('href')).toContain('/conversations/c-9/export?format=pdf&turn=1')
  })

  it('shows a refusal once, in its box, with no export buttons', async () => {
    const refusal = { category: 'patient_data', message: '不提供患者个人信息。' }
    const response = { ...done({ answer: '不提供患者个人信息。' }), conversation_id: undefined }
    response.plan = { calls: [], clarification: null, refusal } as unknown as ChatResponse['plan']
    const conversation = {
      id: 'c-8',
      title: '拒答',
      created_at: '2026-12-02T00:53:50',
      updated_at: '2026-12-02T00:53:50',
      messages: [
        { role: 'user', content: '张三住哪个床', response: null, created_at: '' },
        { role: 'assistant', content: '不提供患者个人信息。', response, created_at: '' },
      ],
    }
    stub = stubFetch(() => jsonResponse(conversation))
    vi.stubGlobal('fetch', stub.fetch)
    const chat = mountChat()
    await chat.load('c-8')
    await flushPromises()
    // the details (stubbed here) carry the refusal box; the text is not shown beside it again
    expect(wrapper.find('[data-testid=answer-text]').exists()).toBe(false)
    expect(wrapper.find('[data-testid=export-pdf]').exists()).toBe(false)
  })
})
