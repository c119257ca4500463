import { describe, expect, it } from 'vitest'
import { parseSse, SseParser, type SseEvent } from './sse'
import fixture from './__fixtures__/clarify-stream.txt?raw'

const pushAll = (parser: SseParser, pieces: string[]) => pieces.flatMap((p) => parser.push(p))

describe('SseParser', () => {
  it('parses one frame into its event name and data', () => {
    expect(parseSse('event: plan\ndata: {"plan":1}\n\n')).toEqual([{ event: 'plan', data: '{"plan":1}' }])
  })

  it('returns every event of a chunk that holds several', () => {
    const events = new SseParser().push('event: a\ndata: 1\n\nevent: b\ndata: 2\n\nevent: c\ndata: 3\n\n')
    expect(events.map((e) => [e.event, e.data])).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
    ])
  })

  it('waits for the blank line before emitting a frame split across chunks', () => {
    const parser = new SseParser()
    expect(parser.push('event: answer\nda')).toEqual([])
    expect(parser.push('ta: {"delta":"药占')).toEqual([])
    expect(parser.push('比"}\n')).toEqual([])
    expect(parser.push('\nevent: done\ndata: {}\n')).toEqual([{ event: 'answer', data: '{"delta":"药占比"}' }])
    expect(parser.push('\n')).toEqual([{ event: 'done', data: '{}' }])
  })

  it('gives the same events wherever the real stream is cut', () => {
    const whole = parseSse(fixture)
    expect(whole.map((e) => e.event)).toEqual(['plan', 'results', ...Array(6).fill('answer'), 'done'])
    for (let cut = 1; cut < fixture.length; cut += 7) {
      const parser = new SseParser()
      expect(pushAll(parser, [fixture.slice(0, cut), fixture.slice(cut)])).toEqual(whole)
    }
    // one character at a time: the worst case for a parser that scans its buffer
    expect(pushAll(new SseParser(), [...fixture])).toEqual(whole)
  })

  it('joins the answer deltas of the real stream into the done answer', () => {
    const events = parseSse(fixture)
    const text = events.filter((e) => e.event === 'answer').map((e) => JSON.parse(e.data).delta).join('')
    expect(text).toBe(JSON.parse(events.at(-1)!.data).answer)
  })

  it('accepts \\r\\n and \\r line endings, even a \\r\\n cut in two', () => {
    const parser = new SseParser()
    const events: SseEvent[] = [
      ...parser.push('event: a\r\ndata: 1\r'),
      ...parser.push('\n\r'),
      ...parser.push('\nevent: b\rdata: 2\r\r'),
      ...parser.end(), // the last \r could have been half of a \r\n until the stream ended
    ]
    expect(events).toEqual([
      { event: 'a', data: '1' },
      { event: 'b', data: '2' },
    ])
  })

  it('joins data lines, skips comments, defaults the event name, and keeps a colon in the value', () => {
    expect(parseSse(': keep-alive\n\ndata: a\ndata:b: c\n\n')).toEqual([{ event: 'message', data: 'a\nb: c' }])
  })

  it('drops a frame that never got its blank line (the stream was cut)', () => {
    const parser = new SseParser()
    expect(parser.push('event: done\ndata: {"answer":"半')).toEqual([])
    expect(parser.end()).toEqual([])
  })

  it('emits nothing for a frame without data', () => {
    expect(parseSse('event: ping\n\n')).toEqual([])
  })
})
