import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { parse } from 'yaml';

/**
 * What the metrics feature's monitoring files say, read the way Prometheus and Grafana read
 * them: the PromQL of every alert rule and dashboard target, and a type check of the dashboard
 * against Grafana's published types (@grafana/schema).
 */

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
}
interface Target {
  expr: string;
}
export interface DashboardJson {
  uid: string;
  panels: { title: string; targets: Target[] }[];
}

/** Every rule of an alerts.yml, with its group. */
export function rulesOf(alertsYaml: string): Rule[] {
  const doc = parse(alertsYaml) as { groups: { rules: Rule[] }[] };
  return doc.groups.flatMap((group) => group.rules);
}

/** Every PromQL query of a dashboard, named by its panel. */
export function dashboardQueries(dashboard: DashboardJson): { name: string; expr: string }[] {
  return dashboard.panels.flatMap((panel) =>
    panel.targets.map((target) => ({ name: panel.title, expr: target.expr })),
  );
}

/**
 * An alert's condition made total: each comparison with a number (`> 0.05`) becomes a `bool`
 * comparison, which keeps every series (as 0 or 1) instead of dropping those that do not fire.
 * A healthy app fires nothing, yet each expression must be shown to select real series.
 */
export function withBoolComparisons(expr: string): string {
  return expr.replace(/(==|!=|>=|<=|>|<)\s*(?=[\d.])/g, '$1 bool ');
}

/**
 * Grafana's own variables, given a value Grafana would: `$__rate_interval` is at least four
 * scrape intervals, more on a wider time range.
 */
export function withGrafanaVariables(expr: string, rateInterval: string): string {
  return expr.replaceAll('$__rate_interval', rateInterval);
}

const require = createRequire(import.meta.url);
const schemaTypes = join(
  dirname(require.resolve('@grafana/schema/package.json')),
  'dist/types/index.d.ts',
);

/**
 * Type-checks dashboard JSONs against @grafana/schema's `Dashboard` (Grafana's dashboard model,
 * generated from its CUE schema), each target also as a Prometheus query. `satisfies` on the
 * literal rejects a missing required field, a wrong type and any key the schema does not know.
 * One compilation for all of them (loading the types is the slow part); returns each one's
 * compiler messages (empty: valid). Writes its source file into `dir`.
 */
export function dashboardTypeErrors(jsons: readonly string[], dir: string): string[][] {
  const file = join(dir, 'dashboards.ts');
  let source = [
    "import type { Dashboard, DataQuery, DataSourceRef, Panel } from '@grafana/schema';",
    'type PrometheusQuery = DataQuery & { datasource: DataSourceRef; expr: string; legendFormat?: string };',
    'type Checked = Dashboard & { panels: (Panel & { targets: PrometheusQuery[] })[] };',
    '',
  ].join('\n');
  const ends = jsons.map((json, i) => {
    source += `export const dashboard${i} = ${json.trim()} satisfies Checked;\n`;
    return source.length;
  });
  writeFileSync(file, source);
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    paths: { '@grafana/schema': [schemaTypes] },
  });
  const errors = jsons.map((): string[] => []);
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const index = ends.findIndex((end) => (diagnostic.start ?? 0) < end);
    // A message outside every dashboard (the header) belongs to all of them.
    if (index === -1 || (diagnostic.start ?? 0) < source.indexOf('export const')) {
      for (const list of errors) list.push(message);
    } else errors[index]!.push(message);
  }
  return errors;
}
