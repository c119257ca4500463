import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import ElementPlus, { ElDatePicker, ElSelect } from 'element-plus'
import FilterBar from './FilterBar.vue'
import { fromDate } from './filters'
import { jsonResponse, stubFetch } from '../api/testing'
import type { ChatScope } from '../api/types'

const member = (name: string, code = name, attributes: Record<string, string> = {}) => ({ code, name, attributes })
let stub: ReturnType<typeof stubFetch>
let wrapper: VueWrapper

beforeEach(() => {
  stub = stubFetch(({ url }) => {
    if (url.includes('/dimensions/campus')) return jsonResponse([member('本部', 'BB'), member('东院区', 'DY')])
    if (url.includes('/dimensions/department')) return jsonResponse([member('心血管内科', 'NK01')])
    return jsonResponse([member('韦云燕', 'D0001', { dept_code: 'NK01', title: '主任医师' })])
  })
  vi.stubGlobal('fetch', stub.fetch)
})
afterEach(() => {
  wrapper?.unmount()
  vi.unstubAllGlobals()
})

async function mountBar(props: { asOf: string | null; disabled?: boolean }) {
  wrapper = mount(FilterBar, { props, global: { plugins: [ElementPlus] } })
  await flushPromises()
  return wrapper
}

/** Pick values the way the widget reports them: its v-model update. */
async function choose(testid: string, value: string[]) {
  wrapper.findAllComponents(ElSelect).find((s) => s.attributes('data-testid') === testid)!.vm.$emit('update:modelValue', value)
  await flushPromises()
}

const urls = () => stub.calls.map((c) => decodeURIComponent(c.url))

describe('FilterBar', () => {
  it('offers period shortcuts computed from the data cut-off', async () => {
    await mountBar({ asOf: '2023-09-08' })
    const shortcuts = wrapper.findComponent(ElDatePicker).props('shortcuts') as { text: string; value: () => Date[] }[]
    const periods = Object.fromEntries(shortcuts.map((s) => [s.text, s.value().map(fromDate)]))
    expect(periods['本年']).toEqual(['2023-01-01', '2023-09-08'])
    expect(periods['上年']).toEqual(['2022-01-01', '2022-12-31'])
    expect(periods['本季度']).toEqual(['2023-07-01', '2023-09-08'])
    expect(periods['本月']).toEqual(['2023-09-01', '2023-09-08'])
    expect(periods['近12个月']).toEqual(['2022-10-01', '2023-09-08'])
    const disabledDate = wrapper.findComponent(ElDatePicker).props('disabledDate') as (d: Date) => boolean
    expect(disabledDate(new Date(2023, 8, 8))).toBe(false)
    expect(disabledDate(new Date(2023, 8, 9))).toBe(true) // no data after the cut-off
  })

  it('loads the options from the dimension endpoints, doctors by the chosen department', async () => {
    await mountBar({ asOf: '2023-09-08' })
    expect(urls()).toEqual(['/api/v1/dimensions/campus', '/api/v1/dimensions/department', '/api/v1/dimensions/doctor'])
    await choose('filter-department', ['心血管内科'])
    expect(urls().at(-1)).toBe('/api/v1/dimensions/doctor?department=心血管内科')
    const department = wrapper.findAllComponents(ElSelect).find((s) => s.attributes('data-testid') === 'filter-department')!
    await (department.props('remoteMethod') as (q: string) => Promise<void>)('心')
    expect(urls().at(-1)).toBe('/api/v1/dimensions/department?q=心')
  })

  it('applies the scope built from the controls, and clears them', async () => {
    await mountBar({ asOf: '2023-09-08' })
    wrapper.findComponent(ElDatePicker).vm.$emit('update:modelValue', ['2023-01-01', '2023-06-30'])
    await choose('filter-campus', ['东院区'])
    await choose('filter-doctor', ['韦云燕'])
    await wrapper.find('[data-testid=filter-apply]').trigger('click')
    const applied = wrapper.emitted('apply') as [ChatScope][]
    expect(applied).toHaveLength(1)
    expect(applied[0][0]).toEqual({ start: '2023-01-01', end: '2023-06-30', campus: ['东院区'], doctor: ['韦云燕'] })

    await wrapper.find('[data-testid=filter-clear]').trigger('click')
    expect(wrapper.emitted('clear')).toHaveLength(1)
    await wrapper.find('[data-testid=filter-apply]').trigger('click')
    expect((wrapper.emitted('apply') as [ChatScope][])[1][0]).toEqual({})
  })

  it('is disabled until there is a question to re-run', async () => {
    await mountBar({ asOf: '2023-09-08', disabled: true })
    expect(wrapper.find('[data-testid=filter-apply]').attributes('disabled')).toBeDefined()
    expect(wrapper.findComponent(ElDatePicker).props('disabled')).toBe(true)
    await wrapper.setProps({ disabled: false })
    expect(wrapper.find('[data-testid=filter-apply]').attributes('disabled')).toBeUndefined()
  })
})
