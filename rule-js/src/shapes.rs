//! The TypeScript shapes of the values that cross to JavaScript: the
//! interfaces the declarations (`rule_js.d.ts`) carry, and the opaque JS
//! types the methods of [`crate::RuleEngine`] take and give, named after
//! them.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_SHAPES: &'static str = r#"
/** Options: every field of rule-core's `Limits`, all optional. */
export interface RuleEngineOptions {
  /** A larger event is refused (code -2). Default 1 MiB. */
  maxEventBytes?: number;
  /** At this many pending sequences of one rule, its oldest is evicted. Default 1 000 000. */
  maxPendingSequences?: number;
  /** At this many bytes of one rule's pending state, its oldest sequence is evicted. Default 512 MiB. */
  maxStateBytes?: number;
  /** At this many bytes of pending state over a pack's rules, the rule holding the most loses its oldest. Default 512 MiB. */
  maxTotalStateBytes?: number;
  /** With this many alerts undrained, pushing throws code -10. Default 10 000. */
  maxBufferedAlerts?: number;
  /** How late (event time, ms) an event may come and still be put in order. Default 0. */
  reorderWindowMs?: number;
  /** Seeds the hashing of join keys: pass a random one (e.g. from crypto.getRandomValues) where events are untrusted. Default 0. */
  hashSeed?: number;
}

/** Elasticsearch's EQL request parameters, all optional; each overrides the rule's own. */
export interface RuleEngineParams {
  /** The event time field. Default `@timestamp`. */
  timestampField?: string;
  /** The field `process where` tests. Default `event.category`. */
  eventCategoryField?: string;
  /** An Elasticsearch index mapping (`{"properties": ...}`): field types and aliases. */
  mapping?: object;
  /** Samples per join key a `sample` query gives. Default 1. */
  maxSamplesPerKey?: number;
  /** Orders events of the same time (a number or a date field); missing ones last. */
  tiebreakerField?: string;
  /** At most this many results. Default: all (Elasticsearch's 10 would silence a stream). */
  size?: number;
  /** With `size`: `"head"`, the first results as they form, or `"tail"` (default), the last ones, let out at `flush()`. */
  resultPosition?: 'head' | 'tail';
}

/** What `new RuleEngine`, `pushEvent`, `restore`... throw. */
export interface RuleEngineError extends Error {
  /** `EventError` (-1..-10), `RuleError` (-12) or `SnapshotError` (-14). */
  name: "EventError" | "RuleError" | "SnapshotError";
  /** The ABI code: rule-core's PushError::code, -12 for the rule or options, -14 for a snapshot. */
  code: number;
  /** `invalid_json`, `missing_timestamp`, ... for events; `rule`, `options`, `params`, `example` or `snapshot` otherwise. */
  kind: string;
  /** Rule errors in the EQL: 1-based line in the text given to the constructor. */
  line?: number;
  /** Rule errors in the EQL: 1-based column, in characters. */
  column?: number;
  /** Rule errors in the EQL: line within the query (differs from `line` for a TOML file). */
  queryLine?: number;
  /** Rule errors in the EQL: column within the query. */
  queryColumn?: number;
  /** The reason alone, without the position. */
  reason: string;
  /** `example` errors: the 1-based stage the reason concerns, when one. */
  stage?: number;
}

/** One refused line of `pushEvents`. */
export interface RefusedLine {
  /** 1-based line number in the batch. */
  line: number;
  code: number;
  kind: string;
  message: string;
}

/** What `pushEvents` did with a batch. */
export interface BatchReport {
  /** Lines taken (blank lines are skipped, neither taken nor refused). */
  taken: number;
  refused: RefusedLine[];
  /** Alerts waiting to be drained after the batch. */
  alertsPending: number;
}

/** An alert: an ECS document as Elastic Defend's behaviour alerts have them. */
export interface Alert {
  /** The time of the sequence's last event, RFC 3339 with milliseconds. */
  "@timestamp": string;
  event: { kind: "alert"; category: string[]; type: string[]; severity: number; risk_score: number };
  message: string;
  rule: { id: string; uuid: string; name: string; description: string; version: string; license: string; author: string[] };
  threat: unknown[];
  kibana: { alert: { severity: string; risk_score: number } };
  /** The matched events, in sequence order, as they were pushed. */
  Events: Record<string, unknown>[];
  /** The join key values, nested by their dotted names (`host.id` is `host: { id }`). */
  [joinKey: string]: unknown;
}

/** Counters since the engine was created (or restored). */
export interface Stats {
  events: number;
  bytes: number;
  /** Per stage, events that passed its filter. */
  stageMatches: number[];
  alerts: number;
  /** Refused events by kind (`empty`, `too_large`, `invalid_utf8`, `invalid_json`, `not_an_object`, `wrong_type`, `malformed_ip`, `missing_timestamp`, `bad_timestamp`, `back_pressure`). */
  errors: Record<string, number>;
  /** Values left out of events taken because their field's mapping says `ignore_malformed`, by the same kinds. */
  ignoredMalformed: Record<string, number>;
  pendingSequences: number;
  stateBytes: number;
  evictions: number;
  expired: number;
  lateEvents: number;
  reorderHeld: number;
  truncatedKeys: number;
  /** Computed conditions that failed on an event's values (false for it). */
  scriptErrors: number;
  /** Computed conditions cut at 4096 combinations of values. */
  scriptTruncated: number;
  /** Pending sequences an `until` ended. */
  endedByUntil: number;
  /** Sequences an event of a missing-event stage discarded. */
  discardedByMissing: number;
  /** Results `| head` or `| tail` dropped. */
  pipedOut: number;
  /** A pack's rules, each with its own counters (absent for one rule). */
  rules?: RuleStats[];
  /** A pack's rules that did not compile (absent when none). */
  refusedRules?: { id: string; name: string; error: string }[];
}

/** One rule's counters in a pack; the fields mean what `Stats`' do. */
export interface RuleStats {
  id: string;
  name: string;
  stageMatches: number[];
  alerts: number;
  pendingSequences: number;
  stateBytes: number;
  evictions: number;
  expired: number;
  lateEvents: number;
  reorderHeld: number;
  truncatedKeys: number;
  scriptErrors: number;
  scriptTruncated: number;
  endedByUntil: number;
  discardedByMissing: number;
  pipedOut: number;
}

/** A leaf predicate's outcome: `missing` when its field has no value (it is then false). */
export type Outcome = "true" | "false" | "missing";

/** One node of a stage's filter, with its result on the event. */
export type FilterNode =
  | { node: "and"; result: boolean; children: FilterNode[] }
  | { node: "or"; result: boolean; children: FilterNode[] }
  | { node: "not"; result: boolean; child: FilterNode }
  | { node: "const"; result: boolean }
  | { node: "leaf"; result: boolean; outcome: Outcome; test: string; field: string; values: (string | number | null)[] }
  /** A condition Elasticsearch runs as a script (functions, arithmetic): true when some combination of its fields' values is. */
  | { node: "script"; result: boolean; test: string; fields: { field: string; values: (string | number | null)[] }[] };

/** A join key field and its values in the event. */
export interface FieldValues {
  field: string;
  values: (string | number | null)[];
}

/** How one stage judges the event. */
export interface StageExplanation {
  /** 0-based stage index. */
  stage: number;
  /** The filter holds. */
  passes: boolean;
  /** The filter holds and every join key has a value: the event takes part in sequences here. */
  joins: boolean;
  joinKeys: FieldValues[];
  filter: FilterNode;
}

/** `explain`: the verdict of every stage on one event. */
export interface Explanation {
  /** `@timestamp` in epoch milliseconds, or null. */
  timestamp: number | null;
  /** `@timestamp` as RFC 3339 (milliseconds), or null. */
  time: string | null;
  stages: StageExplanation[];
}

/** `RuleEngine.example`: events that make the rule fire, and near misses that must not. */
export interface RuleExample {
  /** JSON documents, in push order: a new engine of the rule raises an alert on them (after `flush()`). */
  positives: string[];
  /** Streams close to `positives`, each raising no alert in a new engine; `what` says what was changed. */
  nearMisses: { what: string; events: string[] }[];
}

/** The rule's metadata, as in detection-rules TOML. */
export interface RuleMeta {
  id: string;
  name: string;
  description: string;
  version: number;
  license: string;
  author: string[];
  severity: string;
  risk_score: number;
  threat: unknown[];
}
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "string | Uint8Array | Record<string, unknown>")]
    pub type EventArg;
    #[wasm_bindgen(typescript_type = "string | Uint8Array")]
    pub type BatchArg;
    #[wasm_bindgen(typescript_type = "BatchReport")]
    pub type BatchReportValue;
    #[wasm_bindgen(typescript_type = "Alert[]")]
    pub type AlertArray;
    #[wasm_bindgen(typescript_type = "Stats")]
    pub type StatsValue;
    #[wasm_bindgen(typescript_type = "Explanation")]
    pub type ExplanationValue;
    #[wasm_bindgen(typescript_type = "RuleMeta")]
    pub type RuleMetaValue;
    #[wasm_bindgen(typescript_type = "Required<RuleEngineOptions>")]
    pub type LimitsValue;
    #[wasm_bindgen(typescript_type = "RuleExample")]
    pub type RuleExampleValue;
}
