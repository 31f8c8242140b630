/**
 * The house rules for imports (architecture.md, "Where to find what"), checked by `npm run lint`
 * (part of `make test`): no cycles, no import up a floor, kafkajs internals only where they are patched.
 */
const BELOW_ACTORS = '^src/(windows|checkpoint|lake|events|config|system|log|storage|generators|etl|query|verify)/';
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle means two modules are one concept, or a shared type belongs in a leaf file.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'kafkajs-internals-only-in-patches-and-wire',
      comment:
        'kafkajs/src/* changes between versions: only kafka/patches/ (which check the version) and kafka/wire/ reach in.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/kafka/(patches|wire)/' },
      to: { path: '^node_modules/kafkajs/src/' },
    },
    {
      name: 'src-imports-no-commands',
      comment: 'commands/ is the top floor: only main.ts (the CLI) and other commands import it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(main\\.ts|commands/)' },
      to: { path: '^src/commands/' },
    },
    {
      name: 'src-imports-no-bench-or-test',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(bench|test)/' },
    },
    {
      name: 'platform-only-from-above',
      comment: 'platform/ wires the actor tree; below it only the leaf platformMetrics.ts (types) may be read.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(main\\.ts|commands/|platform/)' },
      to: { path: '^src/platform/', pathNot: '^src/platform/platformMetrics\\.ts$' },
    },
    {
      name: 'rules-import-no-actor',
      comment: 'Pure rules and stores (windows/, checkpoint/, lake/, …) know nothing of the actors that apply them.',
      severity: 'error',
      from: { path: BELOW_ACTORS },
      to: { path: '^src/(actors|platform|services|ui|status)/' },
    },
    {
      name: 'kafka-knows-no-platform',
      severity: 'error',
      from: { path: '^src/(kafka|localKafka)/' },
      to: { path: '^src/(actors|platform|services|ui|status|commands)/' },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.test.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
  },
};
