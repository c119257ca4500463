// jsdom cannot draw on a canvas, so ECharts itself is replaced: the test checks that the wrapper
// initialises it with the canvas renderer, hands it the option, follows changes and frees it.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { nextTick } from 'vue'

const chart = { setOption: vi.fn(), resize: vi.fn(), dispose: vi.fn(), on: vi.fn() }
vi.mock('echarts/core', () => ({ use: vi.fn(), init: vi.fn(() => chart) }))

import * as echarts from 'echarts/core'
import EChart from './EChart.vue'

const months = Array.from({ length: 12 }, (_, i) => `2023-${String(i + 1).padStart(2, '0')}`)
const option = {
  title: { text: '门诊人次（人次）' },
  tooltip: { trigger: 'axis' },
  xAxis: { type: 'category', data: months },
  yAxis: { type: 'value' },
  series: [{ type: 'line', data: months.map((_, i) => i * 1000) }],
}

describe('EChart', () => {
  beforeEach(() => {
    vi.clearAllMocks()
  })
  afterEach(() => {
    vi.unstubAllGlobals()
  })

  it('initialises with the canvas renderer and sets the option with rotated labels', () => {
    const wrapper = mount(EChart, { props: { option, height: '240px' }, attachTo: document.body })
    expect(echarts.init).toHaveBeenCalledTimes(1)
    const [el, theme, opts] = vi.mocked(echarts.init).mock.calls[0]
    expect(el).toBe(wrapper.element)
    expect(theme).toBeUndefined()
    expect(opts).toMatchObject({ renderer: 'canvas' })
    expect((wrapper.element as HTMLElement).style.height).toBe('240px')
    const [given, setOpts] = chart.setOption.mock.calls[0]
    expect(given.series).toEqual(option.series)
    expect(given.xAxis.axisLabel.rotate).toBe(40)
    expect(setOpts).toMatchObject({ notMerge: true })
    wrapper.unmount()
  })

  it('updates when the option changes and disposes on unmount', async () => {
    const wrapper = mount(EChart, { props: { option } })
    const next = { ...option, series: [{ type: 'bar', data: [1, 2] }], xAxis: { type: 'category', data: ['a', 'b'] } }
    await wrapper.setProps({ option: next })
    await nextTick()
    expect(chart.setOption).toHaveBeenCalledTimes(2)
    expect(chart.setOption.mock.calls[1][0].series).toEqual(next.series)
    // two categories: no rotation
    expect(chart.setOption.mock.calls[1][0].xAxis.axisLabel).toBeUndefined()
    wrapper.unmount()
    expect(chart.dispose).toHaveBeenCalledTimes(1)
  })

  it('resizes with its container when ResizeObserver exists', () => {
    let callback: () => void = () => {}
    const observe = vi.fn()
    const disconnect = vi.fn()
    vi.stubGlobal(
      'ResizeObserver',
      class {
        constructor(cb: () => void) {
          callback = cb
        }
        observe = observe
        disconnect = disconnect
        unobserve() {}
      },
    )
    const wrapper = mount(EChart, { props: { option } })
    expect(observe).toHaveBeenCalledWith(wrapper.element)
    callback()
    expect(chart.resize).toHaveBeenCalledTimes(1)
    wrapper.unmount()
    expect(disconnect).toHaveBeenCalled()
  })

  it('falls back to the window resize event without ResizeObserver (jsdom)', () => {
    vi.stubGlobal('ResizeObserver', undefined)
    const wrapper = mount(EChart, { props: { option } })
    window.dispatchEvent(new Event('resize'))
    expect(chart.resize).toHaveBeenCalledTimes(1)
    wrapper.unmount()
    window.dispatchEvent(new Event('resize'))
    expect(chart.resize).toHaveBeenCalledTimes(1)
  })
})
