// The conversation on screen: its turns (a question and its answer), the streaming request, stop,
// retry, and loading a stored conversation. One store per page, created by App.vue and handed to
// the chat view, the filter bar and the catalog's "ask this" so they all act on the same turns.
import { computed, reactive, ref } from 'vue'
import { ApiError } from '../api/http'
import { getConversation, streamChat, STREAM_IDLE_TIMEOUT_MS } from '../api/client'
import type { ChatResponse, ChatScope, Conversation } from '../api/types'
import { MAX_QUESTION_CHARS } from '../api/types'

/**
 * thinking: sent, nothing back yet · querying: the plan arrived, tools are running · composing: the
 * results arrived · streaming: answer text is arriving · done · error: failed, nothing usable ·
 * stopped: the user pressed 停止 (some text may have arrived).
 */
export type TurnStatus = 'thinking' | 'querying' | 'composing' | 'streaming' | 'done' | 'error' | 'stopped'

export interface ChatTurn {
  key: number // stable v-for key
  question: string
  scope: ChatScope | null // the filter bar's scope of a re-run
  status: TurnStatus
  text: string // the answer text so far
  response: ChatResponse | null // once done
  error: string | null
  /** The answer's 1-based number among the conversation's stored answers: `turn=` of an export. */
  answerIndex: number | null
}

export const ACTIVE: readonly TurnStatus[] = ['thinking', 'querying', 'composing', 'streaming']

export interface ChatOptions {
  /** Called when the server has stored a turn (answered, or stopped mid-answer): refresh the list. */
  onStored?: (conversationId: string | null) => void
  idleTimeoutMs?: number
}

/** Object.assign, checked against ChatTurn. */
function update(turn: ChatTurn, patch: Partial<ChatTurn>): void {
  Object.assign(turn, patch)
}

export function useChat(options: ChatOptions = {}) {
  const state = reactive({
    conversationId: null as string | null,
    title: '',
    turns: [] as ChatTurn[],
    loading: false,
    loadError: null as string | null,
  })
  let storedCount = 0 // answers the server holds for this conversation (for export turn numbers)
  let nextKey = 1
  let controller: AbortController | null = null
  // bumped by reset/load: a request still finishing for a conversation no longer shown must not
  // touch the new one's id or counts
  let epoch = 0

  const busy = computed(() => state.turns.some((t) => ACTIVE.includes(t.status)))
  const lastQuestion = computed(() => state.turns.at(-1)?.question ?? '')
  // the filter bar's scope, set before or after asking: like a report's filters it holds for every
  // question that follows, until cleared or a new conversation starts
  const standingScope = ref<ChatScope | null>(null)

  function newTurn(question: string, scope: ChatScope | null): ChatTurn {
    return reactive({
      key: nextKey++,
      question,
      scope,
      status: 'thinking',
      text: '',
      response: null,
      error: null,
      answerIndex: null,
    }) as ChatTurn
  }

  async function run(turn: ChatTurn): Promise<void> {
    const mine = epoch
    const current = new AbortController()
    controller = current
    update(turn, { status: 'thinking', text: '', response: null, error: null, answerIndex: null })
    try {
      const response = await streamChat(
        { question: turn.question, conversation_id: state.conversationId ?? undefined, scope: turn.scope ?? undefined },
        {
          onPlan: () => (turn.status = 'querying'),
          onResults: () => (turn.status = 'composing'),
          onDelta: (delta) => {
            turn.status = 'streaming'
            turn.text += delta
          },
        },
        { signal: current.signal, idleTimeoutMs: options.idleTimeoutMs ?? STREAM_IDLE_TIMEOUT_MS },
      )
      update(turn, { status: 'done', text: response.answer, response })
      if (mine !== epoch) return
      turn.answerIndex = ++storedCount
      if (!state.conversationId) state.title = response.question
      state.conversationId = response.conversation_id
      options.onStored?.(response.conversation_id)
    } catch (err) {
      const error = err instanceof ApiError ? err : new ApiError(String(err), 0, 'client_error')
      if (error.type === 'aborted') {
        turn.status = 'stopped'
        // the server stores a turn before its first piece of text: one that had text is stored
        if (turn.text) {
          if (mine === epoch) storedCount++
          options.onStored?.(mine === epoch ? state.conversationId : null)
        }
      } else {
        update(turn, { status: 'error', error: error.message })
      }
    } finally {
      if (controller === current) controller = null
    }
  }

  /** Ask in the current conversation; false when it cannot be sent (blank, too long, busy). */
  function ask(question: string, scope: ChatScope | null = null): boolean {
    const text = question.trim()
    if (!text || text.length > MAX_QUESTION_CHARS || busy.value || state.loading) return false
    const turn = newTurn(text, scope ?? standingScope.value)
    state.turns.push(turn)
    void run(turn)
    return true
  }

  /** Ask a failed or stopped question again; it moves to the end so the order matches the server's. */
  function retry(turn: ChatTurn): void {
    if (busy.value || state.loading) return
    const index = state.turns.indexOf(turn)
    if (index < 0) return
    if (index !== state.turns.length - 1) {
      state.turns.splice(index, 1)
      state.turns.push(turn)
    }
    void run(turn)
  }

  function stop(): void {
    controller?.abort()
  }

  /** An empty conversation: the next question starts a new one on the server. */
  function reset(): void {
    stop()
    standingScope.value = null
    epoch++
    storedCount = 0
    Object.assign(state, { conversationId: null, title: '', turns: [], loading: false, loadError: null })
  }

  /** Show a stored conversation; its answers render as a streamed one does once done. */
  async function load(id: string): Promise<void> {
    reset()
    const mine = epoch
    state.conversationId = id
    state.loading = true
    try {
      const conversation = await getConversation(id)
      if (mine !== epoch) return
      const turns = turnsOf(conversation)
      storedCount = turns.filter((t) => t.answerIndex !== null).length
      Object.assign(state, { title: conversation.title, turns })
    } catch (err) {
      if (mine !== epoch) return
      state.loadError = err instanceof Error ? err.message : String(err)
    } finally {
      if (mine === epoch) state.loading = false
    }
  }

  /** Messages alternate user/assistant; a question without a stored answer shows as failed. */
  function turnsOf(conversation: Conversation): ChatTurn[] {
    const turns: ChatTurn[] = []
    let count = 0
    for (const message of conversation.messages) {
      if (message.role === 'user') {
        const turn = newTurn(message.content, null)
        update(turn, { status: 'error', error: '这个问题没有保存回答，可以重试' })
        turns.push(turn)
      } else {
        const turn = turns.at(-1)
        if (!turn || turn.status === 'done') continue
        const response = message.response
          ? ({ ...message.response, conversation_id: conversation.id } as ChatResponse)
          : null
        update(turn, { status: 'done', text: message.content, response, error: null, answerIndex: ++count })
      }
    }
    return turns
  }

  return { state, busy, lastQuestion, standingScope, ask, retry, stop, reset, load }
}

export type ChatStore = ReturnType<typeof useChat>
