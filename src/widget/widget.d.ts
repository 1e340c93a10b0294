/** src/widget/widget.js is imported as text (wrangler.toml [[rules]] type = "Text"), served at GET /widget.js. */
declare const source: string;
export default source;
