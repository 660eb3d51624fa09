// Bundle the designer (assets/designer.js) with esbuild: `node assets/build.mjs <outfile>`.
// The app's Content-Security-Policy forbids inline style attributes (style-src 'self'), so a small plugin rewrites
// the few the bpmn-io libraries put in HTML strings: the properties panel's two container divs (designer.css gives
// them the same rules) and the SVG icons of the align/distribute menu (style → SVG presentation attributes).
import { readFile } from 'node:fs/promises';
import * as esbuild from 'esbuild';

const outfile = process.argv[2] || 'web/static/vendor/designer.min.js';
const PANEL_STYLES = [' style="height: 100%"', ' style="flex: none; height: auto"'];

function svgAttributes(css) {
  return css.split(';').map((d) => d.trim()).filter(Boolean).map((d) => {
    const [key, ...rest] = d.split(':');
    return `${key.trim()}="${rest.join(':').trim()}"`;
  }).join(' ');
}

const cspSafe = {
  name: 'csp-safe-inline-styles',
  setup(build) {
    build.onLoad({ filter: /node_modules[\\/](bpmn-js-properties-panel|bpmn-js|diagram-js)[\\/].*\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes(' style="') || /PoweredByUtil/.test(args.path)) return undefined;  // bpmn.io licence
      let text = source;
      PANEL_STYLES.forEach((style) => { text = text.split(style).join(''); });
      text = text.replace(/(<(?:line|rect|polyline|path|circle)\b[^>]*?) style="([^"]*)"/g,
        (_, head, css) => `${head} ${svgAttributes(css)}`);
      return { contents: text, loader: 'js', resolveDir: args.path.replace(/[\\/][^\\/]*$/, '') };
    });
  }
};

const result = await esbuild.build({
  entryPoints: ['assets/designer.js'],
  bundle: true,
  minify: true,
  format: 'iife',
  globalName: 'BpmDesigner',
  target: 'es2020',
  legalComments: 'eof',
  logLevel: 'warning',
  metafile: true,
  outfile,
  plugins: [cspSafe]
});
const built = await readFile(outfile, 'utf8');
const left = built.match(/<[a-z]+ [^<>]*style=\\?"[^"]*"/g) || [];
if (left.length) {
  console.error(`designer bundle still has inline style attributes (CSP would block them):\n${left.join('\n')}`);
  process.exit(1);
}
const bytes = result.metafile.outputs[Object.keys(result.metafile.outputs)[0]].bytes;
console.log(`designer bundle: ${outfile} (${(bytes / 1024).toFixed(0)} KB)`);
