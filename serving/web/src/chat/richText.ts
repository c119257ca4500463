// The answer text's only markup is **bold** (line breaks are kept by CSS white-space: pre-wrap). It
// is split into plain segments that the template renders as text nodes, escaped by Vue, never as
// HTML: the answer comes from the server and may quote policy text or echo the user's words.

export interface Segment {
  text: string
  bold: boolean
}

/** Segments in order. An unclosed ** (the rest of a bold phrase not streamed yet) bolds to the end. */
export function richSegments(text: string): Segment[] {
  const segments: Segment[] = []
  text.split('**').forEach((piece, i) => {
    if (piece) segments.push({ text: piece, bold: i % 2 === 1 })
  })
  return segments
}

/** The answer's first paragraph (the figure in words, or a policy answer's first sentences) and the
 * rest, so that the line that answers the question can stand out. */
export function splitLead(text: string): { lead: string; rest: string } {
  const at = text.indexOf('\n\n')
  return at < 0 ? { lead: text, rest: '' } : { lead: text.slice(0, at), rest: text.slice(at) }
}

const POLICY_HEADER = '\n\n相关政策与文件：'

/**
 * The answer's own text and the policy excerpts the server appends after it ("相关政策与文件：…").
 * An answer that is only excerpts (a policy question) keeps them as its main text.
 */
export function splitPolicyExcerpts(text: string): { main: string; excerpts: string } {
  const at = text.indexOf(POLICY_HEADER)
  if (at <= 0) return { main: text, excerpts: '' }
  return { main: text.slice(0, at), excerpts: text.slice(at + 2) }
}
