import { afterEach, describe, expect, it, vi } from 'vitest'
import { useChat } from './useChat'
import { fakeStream, jsonResponse, sseFrame, stubFetch, type FakeStream } from '../api/testing'

const doneFrame = (question: string, id = 'c-1') => sseFrame('done', { question, answer: `答：${question}`, conversation_id: id })

afterEach(() => vi.unstubAllGlobals())

/** A fetch whose streams the test feeds; `streams[i]` is the i-th chat request's body. */
function streaming() {
  const streams: FakeStream[] = []
  const stub = stubFetch(() => {
    const fake = fakeStream([], false)
    streams.push(fake)
    return { fake }
  })
  vi.stubGlobal('fetch', stub.fetch)
  return { streams, calls: stub.calls }
}

describe('useChat', () => {
  it('walks a turn through its statuses and numbers stored answers for export', async () => {
    const { streams } = streaming()
    const stored: (string | null)[] = []
    const chat = useChat({ onStored: (id) => stored.push(id) })
    expect(chat.ask('  第一问  ')).toBe(true)
    expect(chat.ask('忙时不能再问')).toBe(false)
    const turn = chat.state.turns[0]
    expect(turn).toMatchObject({ question: '第一问', status: 'thinking' })
    await vi.waitFor(() => expect(streams).toHaveLength(1))
    streams[0].push(sseFrame('plan', { plan: {} }))
    await vi.waitFor(() => expect(turn.status).toBe('querying'))
    streams[0].push(sseFrame('results', { tool_results: [] }))
    await vi.waitFor(() => expect(turn.status).toBe('composing'))
    streams[0].push(sseFrame('answer', { delta: '答：' }))
    await vi.waitFor(() => expect(turn).toMatchObject({ status: 'streaming', text: '答：' }))
    streams[0].push(doneFrame('第一问'))
    await vi.waitFor(() => expect(turn.status).toBe('done'))
    expect(turn.answerIndex).toBe(1)
    expect(chat.state).toMatchObject({ conversationId: 'c-1', title: '第一问' })
    expect(stored).toEqual(['c-1'])
    expect(chat.lastQuestion.value).toBe('第一问')
  })

  it('counts a turn stopped mid-answer as stored (the server keeps it), one stopped before as not', async () => {
    const { streams } = streaming()
    const chat = useChat()
    chat.ask('一')
    await vi.waitFor(() => expect(streams).toHaveLength(1))
    streams[0].push(doneFrame('一'))
    await vi.waitFor(() => expect(chat.busy.value).toBe(false))

    chat.ask('二') // stopped before any text: not stored
    await vi.waitFor(() => expect(streams).toHaveLength(2))
    chat.stop()
    await vi.waitFor(() => expect(chat.state.turns[1].status).toBe('stopped'))

    chat.ask('三') // stopped mid-answer: stored
    await vi.waitFor(() => expect(streams).toHaveLength(3))
    streams[2].push(sseFrame('answer', { delta: '部分' }))
    await vi.waitFor(() => expect(chat.state.turns[2].text).toBe('部分'))
    chat.stop()
    await vi.waitFor(() => expect(chat.state.turns[2].status).toBe('stopped'))

    chat.ask('四')
    await vi.waitFor(() => expect(streams).toHaveLength(4))
    streams[3].push(doneFrame('四'))
    await vi.waitFor(() => expect(chat.state.turns[3].status).toBe('done'))
    expect(chat.state.turns.map((t) => t.answerIndex)).toEqual([1, null, null, 3])
  })

  it('retries a failed question at the end of the conversation, where the server will put it', async () => {
    let fail = true
    const stub = stubFetch(({ body }) => {
      const question = (body as { question: string }).question
      if (fail && question === '一') return jsonResponse({ error: { message: '出错了', type: 'x' } }, 500)
      return { fake: fakeStream([doneFrame(question)]) }
    })
    vi.stubGlobal('fetch', stub.fetch)
    const chat = useChat()
    chat.ask('一')
    await vi.waitFor(() => expect(chat.state.turns[0]).toMatchObject({ status: 'error', error: '出错了' }))
    chat.ask('二')
    await vi.waitFor(() => expect(chat.state.turns[1].status).toBe('done'))
    fail = false
    chat.retry(chat.state.turns[0])
    await vi.waitFor(() => expect(chat.busy.value).toBe(false))
    expect(chat.state.turns.map((t) => [t.question, t.status, t.answerIndex])).toEqual([
      ['二', 'done', 1],
      ['一', 'done', 2],
    ])
    expect(stub.calls.at(-1)!.body).toEqual({ question: '一', conversation_id: 'c-1' })
  })

  it('ignores a conversation that arrives after another was opened', async () => {
    const resolvers: ((r: Response) => void)[] = []
    vi.stubGlobal('fetch', () => new Promise<Response>((resolve) => resolvers.push(resolve)))
    const chat = useChat()
    const first = chat.load('old')
    const second = chat.load('new')
    const conversation = (id: string, title: string) =>
      jsonResponse({ id, title, created_at: '', updated_at: '', messages: [{ role: 'user', content: title, response: null, created_at: '' }] })
    resolvers[1](conversation('new', '新'))
    await second
    resolvers[0](conversation('old', '旧'))
    await first
    expect(chat.state).toMatchObject({ conversationId: 'new', title: '新', loading: false })
    expect(chat.state.turns.map((t) => [t.question, t.status])).toEqual([['新', 'error']]) // no stored answer
  })
})
