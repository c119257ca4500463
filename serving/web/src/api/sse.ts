// A server-sent events parser with no I/O, so the framing rules can be unit-tested on their own.
// It follows the WHATWG "event stream interpretation" rules the server relies on (serving/api/sse.py):
// a frame is `event:` / `data:` lines ended by a blank line; several `data:` lines join with "\n";
// a line may end in \n, \r\n or \r; lines starting with ":" are comments. Text is pushed as it is
// decoded, so a frame, a line or even a \r\n pair may be split anywhere between two pushes.

export interface SseEvent {
  event: string // 'message' when the frame names none
  data: string
}

export class SseParser {
  private buffer = ''
  private scanned = 0 // buffer[0, scanned) holds no line ending: a long line is not rescanned per chunk
  private event = ''
  private data: string[] = []

  /** Feed decoded text; returns the events whose frames this text completed, in order. */
  push(text: string): SseEvent[] {
    this.buffer += text
    const events: SseEvent[] = []
    let start = 0
    let i = this.scanned
    while (i < this.buffer.length) {
      const ch = this.buffer[i]
      if (ch !== '\n' && ch !== '\r') {
        i++
        continue
      }
      // a \r at the very end may be the first half of \r\n: wait for the next push to decide
      if (ch === '\r' && i + 1 === this.buffer.length) break
      const next = ch === '\r' && this.buffer[i + 1] === '\n' ? i + 2 : i + 1
      this.line(this.buffer.slice(start, i), events)
      start = next
      i = next
    }
    this.buffer = this.buffer.slice(start)
    this.scanned = i - start
    return events
  }

  /**
   * The stream ended. A \r held back by push() was a line ending after all; beyond that, per the
   * standard, an unterminated last frame is dropped (it may be cut off mid-JSON). Resets the parser.
   */
  end(): SseEvent[] {
    const events: SseEvent[] = []
    if (this.buffer.endsWith('\r')) events.push(...this.push('\n'))
    this.buffer = ''
    this.scanned = 0
    this.reset()
    return events
  }

  private line(line: string, events: SseEvent[]): void {
    if (line === '') {
      if (this.data.length) events.push({ event: this.event || 'message', data: this.data.join('\n') })
      this.reset()
      return
    }
    if (line.startsWith(':')) return // comment, e.g. a keep-alive
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'event') this.event = value
    else if (field === 'data') this.data.push(value)
    // `id`, `retry` and unknown fields are ignored: the page never reconnects on its own (a chat
    // request is not idempotent), so it has no use for a last-event id
  }

  private reset(): void {
    this.event = ''
    this.data = []
  }
}

/** All complete events of a whole text (tests, and the sample stream). */
export function parseSse(text: string): SseEvent[] {
  const parser = new SseParser()
  return [...parser.push(text), ...parser.end()]
}
