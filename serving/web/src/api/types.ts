// Types of the public API (docs/api.md; OpenAPI at /api/v1/openapi.json). Only what the page reads.

export type Direction = '逐步提高' | '逐步降低' | '监测比较' | string

export interface ApiErrorBody {
  error: {
    message: string
    type: string
    param: string | null
    valid: string[]
    suggestions: string[]
  }
}

export interface Filters {
  campus: string[]
  department: string[]
  doctor: string[]
  insurance: string[]
  visit_type: string[]
}

export interface Ranking {
  order: 'desc' | 'asc'
  limit: number
}

export interface IndicatorQuery {
  indicators: string[]
  start: string // YYYY-MM-DD
  end: string
  filters: Filters
  group_by: string[]
  compare: ('yoy' | 'mom')[]
  rank: Ranking | null
  version: string | null
}

export interface Comparison {
  kind: 'yoy' | 'mom'
  label: string // the comparison period's value: 去年同期 | 上期
  change_label: string // its change: 同比增减 | 环比增减
  start: string
  end: string
  value: number | null
  numerator: number | null
  denominator: number | null
  delta: number | null
  change_pct: number | null
  change: number | null // what to report: percentage points for % indicators, else percent
  change_unit: string // 百分点 | %
  note: string
  suppressed?: boolean // the comparison period rests on fewer cases than min_cell: value and change withheld
}

export interface Row {
  keys: Record<string, string> // e.g. {department: '心血管内科'} or {month: '2023-01'}
  start: string
  end: string
  value: number | null
  numerator: number | null
  denominator: number | null
  comparisons: Record<string, Comparison>
  rank: number | null
  partial: boolean // a time bucket cut short by the period or the data (2023 to 09-08)
  /** fewer visits or stays than the result's min_cell: value, numerator, denominator are null */
  suppressed?: boolean
}

/** A target value of an indicator (national or the hospital's own), with where it comes from. */
export interface Target {
  kind: string
  comparator: string
  value: number
  scope: string
  document: string
  reliability: string
  note: string
  applies_from: string | null
  applies_to: string | null
}

export interface IndicatorResult {
  code: string
  name: string
  unit: string
  precision: number
  direction: Direction
  kind: string
  version: string
  version_note: string
  version_effective_from: string | null
  definition: string
  formula: string
  caliber_note: string
  comparison_rule: string
  numerator_label: string | null
  denominator_label: string | null
  targets: Target[]
  source_document: string
  rows: Row[]
  accumulates: boolean // a count or amount (not comparable between partial and full periods)
  row_order: 'rank' | 'value_desc' | 'time' | 'keys'
  sql: string[]
  notes: string[]
}

export interface ResolvedQuery {
  indicators: string[]
  start: string
  end: string
  filters: Record<string, string[]>
  group_by: string[]
  compare: string[]
  rank: Ranking | null
  version: string | null
}

export interface QueryResult {
  query: ResolvedQuery
  as_of: string
  data_start: string
  results: IndicatorResult[]
  elapsed_ms: number
  /** cells resting on fewer cases are withheld (shown as "<5"); 0 or absent: none are */
  min_cell?: number
  /** the caller's data scope the figures are limited to, in words: 全院, 心血管内科 */
  scope?: string
}

export interface Citation {
  doc_id: string
  title: string
  doc_number: string
  article: string
  heading_path: string[]
  issuer: string
  issue_date: string
  status: string
  scope: string // internal | external
  reliability: string
  text: string
  score: number
  bm25_rank: number | null
  dense_rank: number | null
  chunk_id: string
}

export interface ToolCall {
  tool: 'query_indicator' | 'search_policy' | 'explain_indicator' | 'list_indicators' | 'list_dimension_values'
  arguments: Record<string, unknown>
}

export interface Clarification {
  slot: string
  question: string
  options: string[]
  pending: IndicatorQuery | null
}

export interface Refusal {
  category: 'patient_data' | 'clinical_advice' | 'injection' | 'out_of_scope'
  message: string
}

export interface Plan {
  calls: ToolCall[]
  clarification: Clarification | null
  refusal: Refusal | null
}

export interface ToolResult {
  tool: string
  role: 'plan' | 'context' // context: added by the assistant around a figure (trend, policy)
  ok: boolean
  query: QueryResult | null
  citations: Citation[]
  data: Record<string, unknown>
  // the executor's errors carry at least a message and a type; valid/suggestions when it knows them
  error: (Pick<ApiErrorBody['error'], 'message' | 'type'> & Partial<ApiErrorBody['error']>) | null
  elapsed_ms: number
}

export interface ResultTable {
  columns: string[]
  rows: (string | number | null)[][]
}

/** What POST /api/v1/chat returns, and the `done` event of POST /api/v1/chat/stream carries. */
export interface ChatResponse {
  question: string
  answer: string
  plan: Plan
  tool_results: ToolResult[]
  citations: Citation[]
  chart: Record<string, unknown> | null // an ECharts option, built by the server
  table: ResultTable | null
  as_of: string
  planner: string
  timings_ms: Record<string, number>
  conversation_id: string
}

export interface ConversationSummary {
  id: string
  title: string
  created_at: string
  updated_at: string
}

export interface Message {
  role: 'user' | 'assistant'
  content: string
  response: ChatResponse | null
  created_at: string
}

export interface Conversation extends ConversationSummary {
  messages: Message[]
}

export interface DimensionMember {
  code: string
  name: string
  attributes: Record<string, string>
}

export interface IndicatorSummary {
  code: string
  name: string
  aliases: string[]
  unit: string
  direction: Direction
  systems: string[]
  status: string
}

export interface IndicatorVersion {
  version: string
  effective_from: string
  measure: string | null
  numerator: string | null
  denominator: string | null
  base: string | null
  scale: number | null
  note: string
}

export interface Indicator {
  code: string
  name: string
  english_name: string
  aliases: string[]
  kind: string
  unit: string
  precision: number
  direction: Direction
  definition: string
  formula: string
  caliber_note: string
  systems: string[]
  assessment_ref: string | null
  national_monitoring: boolean
  policy_caliber: string | null
  owner_department: string
  source_document: string
  reliability: string // V verified, S one source, M unverified
  status: string
  unavailable_reason: string
  valid_from: string
  targets: Target[]
  versions: IndicatorVersion[]
}

export interface IndicatorDetail {
  indicator: Indicator
  dimensions: string[]
  comparison_rule: string
  lineage: {
    measures?: { name: string; label: string; source: string }[]
    tables?: string[]
    raw_columns?: string[]
    time_basis?: Record<string, string>
  }
}

export interface WarehouseInfo {
  version: string
  as_of: string
  data_start: string
  warehouse: string
  generator: Record<string, string>
  /** the generated demo data (演示数据), not a hospital's own */
  synthetic: boolean
}

/**
 * Optional scope of POST /api/v1/chat: the filter bar's period and 院区/科室/医生. A field left out
 * keeps what the question said; an empty list removes that filter.
 */
export interface ChatScope {
  start?: string
  end?: string
  campus?: string[]
  department?: string[]
  doctor?: string[]
}

/** Body of POST /api/v1/chat and /api/v1/chat/stream. */
export interface ChatRequest {
  question: string // 1 to MAX_QUESTION_CHARS characters
  conversation_id?: string // omit to start a conversation
  scope?: ChatScope
}

/** The server refuses longer questions (MAX_QUESTION_CHARS in serving/assistant/assistant.py). */
export const MAX_QUESTION_CHARS = 500

/** Report formats of GET /api/v1/conversations/{id}/export. */
export type ExportFormat = 'pdf' | 'xlsx' | 'md'

/** Dimensions the filter bar offers (GET /api/v1/dimensions/{dimension}). */
export type DimensionName = 'campus' | 'department' | 'doctor' | 'insurance' | 'visit_type'

export interface HealthComponent {
  status: 'ok' | 'loading' | 'degraded' | 'unavailable'
  detail: string
}

/** GET /health: each part of the server, and ok only when every part is */
export interface Health {
  status: 'ok' | 'degraded'
  warehouse: HealthComponent
  index: HealthComponent
  planner: HealthComponent
  synthetic: boolean
}

/** GET /api/v1/auth/me: who is signed in, and what they may see. */
export interface AuthUser {
  name: string
  role: string
  role_label: string // 运营管理部
  scope: string // data scope in words: 全院, 心血管内科
  capabilities: string[]
  method: string // session | …
}

/** POST /api/v1/auth/login */
export interface LoginResponse {
  user: AuthUser
  csrf_token: string
}
