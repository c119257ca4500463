// Display helpers for the conversation list.

/**
 * The server stores UTC times; SQLite returns them without a zone ("2026-12-02T00:53:50.69"), which
 * JavaScript would read as local time, so a zone-less time is taken as UTC.
 */
export function parseServerTime(value: string): Date {
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/.test(value) ? value : `${value}Z`
  return new Date(zoned)
}

const pad = (n: number) => String(n).padStart(2, '0')

/** Today: 14:05; this year: 09-08 14:05; earlier: 2022-09-08. */
export function shortTime(value: string, now: Date = new Date()): string {
  const t = parseServerTime(value)
  if (Number.isNaN(t.getTime())) return ''
  const hm = `${pad(t.getHours())}:${pad(t.getMinutes())}`
  if (t.getFullYear() !== now.getFullYear()) return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}`
  if (t.getMonth() === now.getMonth() && t.getDate() === now.getDate()) return hm
  return `${pad(t.getMonth() + 1)}-${pad(t.getDate())} ${hm}`
}
