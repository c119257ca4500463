import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import ElementPlus, { ElMessageBox } from 'element-plus'
import ConversationSidebar from './ConversationSidebar.vue'
import { jsonResponse, stubFetch } from '../api/testing'
import type { ConversationSummary } from '../api/types'

const summary = (id: string, title: string): ConversationSummary => ({
  id,
  title,
  created_at: '2026-12-02T00:53:50.346233',
  updated_at: '2026-12-02T00:53:50.695101',
})
const LIST = [summary('a', '医院本年药占比是多少？包括同比'), summary('b', '今年每个月的门诊人次趋势')]

let stub: ReturnType<typeof stubFetch>
let wrapper: VueWrapper

beforeEach(() => {
  stub = stubFetch(({ method, url, body }) => {
    if (method === 'PATCH') return jsonResponse({ ...summary('a', (body as { title: string }).title), updated_at: '2026-12-02T01:00:00' })
    if (method === 'DELETE') return new Response(null, { status: 204 })
    return jsonResponse(url.includes('q=') ? [LIST[1]] : LIST)
  })
  vi.stubGlobal('fetch', stub.fetch)
})
afterEach(() => {
  wrapper?.unmount()
  vi.unstubAllGlobals()
  vi.restoreAllMocks()
  vi.useRealTimers()
})

async function mountSidebar(activeId: string | null = 'a') {
  wrapper = mount(ConversationSidebar, { props: { activeId, refreshKey: 0 }, global: { plugins: [ElementPlus] } })
  await flushPromises()
}

const items = () => wrapper.findAll('[data-testid=conversation-item]')
const calls = () => stub.calls.map((c) => [c.method, decodeURIComponent(c.url), c.body])

describe('ConversationSidebar', () => {
  it('lists conversations, highlights the open one, and opens or creates on click', async () => {
    await mountSidebar('b')
    expect(items().map((i) => i.find('.title').text())).toEqual(LIST.map((c) => c.title))
    expect(items()[1].classes()).toContain('active')
    expect(items()[0].classes()).not.toContain('active')
    await items()[0].find('button.open').trigger('click')
    expect(wrapper.emitted('select')).toEqual([['a']])
    await items()[1].trigger('click') // anywhere on the row
    expect(wrapper.emitted('select')).toEqual([['a'], ['b']])
    await wrapper.find('[data-testid=new-conversation]').trigger('click')
    expect(wrapper.emitted('create')).toHaveLength(1)
  })

  it('renames through PATCH /conversations/{id}', async () => {
    const prompt = vi.spyOn(ElMessageBox, 'prompt').mockResolvedValue({ value: '  药占比分析 ', action: 'confirm' } as never)
    await mountSidebar()
    await items()[0].find('[data-testid=conversation-rename]').trigger('click')
    await flushPromises()
    expect(prompt).toHaveBeenCalledOnce()
    expect(calls().at(-1)).toEqual(['PATCH', '/api/v1/conversations/a', { title: '药占比分析' }])
    expect(items()[0].find('.title').text()).toBe('药占比分析')
    expect(wrapper.emitted('renamed')![0][0]).toMatchObject({ id: 'a', title: '药占比分析' })
    expect(wrapper.emitted('select')).toBeUndefined()
  })

  it('deletes through DELETE /conversations/{id} after confirmation, and not when cancelled', async () => {
    const confirm = vi.spyOn(ElMessageBox, 'confirm').mockRejectedValueOnce('cancel').mockResolvedValueOnce('confirm' as never)
    await mountSidebar()
    await items()[1].find('[data-testid=conversation-delete]').trigger('click')
    await flushPromises()
    expect(calls().some(([method]) => method === 'DELETE')).toBe(false)
    expect(items()).toHaveLength(2)

    await items()[1].find('[data-testid=conversation-delete]').trigger('click')
    await flushPromises()
    expect(confirm).toHaveBeenCalledTimes(2)
    expect(calls().at(-1)).toEqual(['DELETE', '/api/v1/conversations/b', undefined])
    expect(items()).toHaveLength(1)
    expect(wrapper.emitted('deleted')).toEqual([['b']])
  })

  it('searches on the server after the typing pauses, and refreshes when told', async () => {
    await mountSidebar()
    vi.useFakeTimers()
    const input = wrapper.find('[data-testid=conversation-search] input')
    await input.setValue('门')
    await input.setValue('门诊')
    expect(stub.calls).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(350)
    vi.useRealTimers()
    await flushPromises()
    expect(calls().slice(1)).toEqual([['GET', '/api/v1/conversations?q=门诊', undefined]])
    expect(items().map((i) => i.find('.title').text())).toEqual([LIST[1].title])

    await wrapper.setProps({ refreshKey: 1 })
    await flushPromises()
    expect(calls().at(-1)).toEqual(['GET', '/api/v1/conversations?q=门诊', undefined])
  })

  it('shows a failed list load with a retry instead of blanking', async () => {
    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('Failed to fetch')))
    await mountSidebar()
    expect(wrapper.text()).toContain('会话列表加载失败')
    expect(wrapper.find('[data-testid=new-conversation]').exists()).toBe(true)
  })
})
