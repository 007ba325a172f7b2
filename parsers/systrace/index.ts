import { LineTokenizer } from '../../src/core/lines.js';
import type { ChunkParser, ParseOptions, Parser, RecordSink } from '../../src/core/types.js';
import { FtraceLines } from '../ftrace/index.js';

/**
 * Android / catapult systrace HTML: the ftrace text sits inside the page, either in
 * `<script class="trace-data" type="application/text">` blocks (Android systrace) or in a
 * JavaScript string `var linuxPerfData = "\` whose lines end in `\n\` (legacy catapult).
 * Lines of the page itself are counted as `html_wrapper_line`; the trace lines go through the
 * ftrace grammar unchanged (line numbers stay those of the HTML file).
 */
const TRACE_DATA_OPEN = /<script class="trace-data"[^>]*>/;
const LEGACY_OPEN = /var linuxPerfData = "\\$/;

export const systraceHtml = {
  name: 'systrace-html',
  description: 'Android systrace / catapult HTML wrapper around ftrace text',
  sniff(head: Buffer): number {
    const text = head.toString('utf8');
    if (!/^\s*<(?:!DOCTYPE html|html)/i.test(text)) return 0;
    return TRACE_DATA_OPEN.test(text) || /var linuxPerfData = "/.test(text) ? 0.95 : 0.1;
  },
  open(sink: RecordSink, opts: ParseOptions): ChunkParser {
    const lines = new FtraceLines(sink, opts, 'systrace-html');
    let mode: 'html' | 'script' | 'legacy' = 'html';
    const tok = new LineTokenizer((l, n) => {
      if (mode === 'html') {
        if (TRACE_DATA_OPEN.test(l)) {
          mode = 'script';
          const after = l.slice(l.search(TRACE_DATA_OPEN)).replace(TRACE_DATA_OPEN, '');
          if (after.trim().length > 0) return lines.line(after, n);
        } else if (LEGACY_OPEN.test(l)) {
          mode = 'legacy';
        }
        return sink.diag('html_wrapper_line', n);
      }
      if (mode === 'script') {
        const close = l.indexOf('</script>');
        if (close >= 0) {
          mode = 'html';
          const before = l.slice(0, close);
          if (before.trim().length > 0) return lines.line(before, n);
          return sink.diag('html_wrapper_line', n);
        }
        return lines.line(l, n);
      }
      // legacy JavaScript string: each line ends with `\n\`, the last with `\n";`
      if (l.endsWith('\\n\\')) return lines.line(l.slice(0, -3), n);
      if (l.endsWith('\\n";')) {
        mode = 'html';
        const body = l.slice(0, -4);
        if (body.trim().length > 0) return lines.line(body, n);
        return sink.diag('blank_line', n);
      }
      return lines.line(l, n);
    });
    return {
      write: (chunk) => tok.write(chunk),
      end: () => {
        tok.end();
        lines.finish(false);
        sink.facts({ lines: tok.lines });
      },
    };
  },
} satisfies Parser;
