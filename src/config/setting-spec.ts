/** The shape of one setting in the schema. */
export type SettingKind = 'string' | 'int' | 'bool' | 'enum' | 'list' | 'url' | 'duration_ms';

export interface SettingSpec {
  kind: SettingKind;
  /** Default as it would be written in the environment; `undefined` means "not set". */
  default?: string;
  /** Values allowed for `enum`. */
  values?: readonly string[];
  /** What a `string` must match. */
  pattern?: RegExp;
  /** Inclusive bounds for `int`/`duration_ms`. */
  min?: number;
  max?: number;
  /** Never printed, not even in start-up errors. */
  secret?: boolean;
  description: string;
}
