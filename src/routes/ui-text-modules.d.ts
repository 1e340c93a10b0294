/**
 * The browser code in src/ui is imported by the Worker as text (wrangler.toml [[rules]] type = "Text"),
 * never run or bundled here; src/ui/tsconfig.json type-checks it as browser code. One declaration per
 * JavaScript file, so that a mistyped path to a TypeScript module is still an error.
 */
declare module '*.html' {
  const text: string;
  export default text;
}
declare module '*.css' {
  const text: string;
  export default text;
}
declare module '*/ui/sse.js' {
  const text: string;
  export default text;
}
declare module '*/ui/files.js' {
  const text: string;
  export default text;
}
declare module '*/ui/playground/api.js' {
  const text: string;
  export default text;
}
declare module '*/ui/playground/composer.js' {
  const text: string;
  export default text;
}
declare module '*/ui/playground/conversation.js' {
  const text: string;
  export default text;
}
declare module '*/ui/playground/credentials.js' {
  const text: string;
  export default text;
}
declare module '*/ui/playground/dom.js' {
  const text: string;
  export default text;
}
declare module '*/ui/playground/main.js' {
  const text: string;
  export default text;
}
declare module '*/ui/playground/branches.js' {
  const text: string;
  export default text;
}
declare module '*/ui/playground/versions.js' {
  const text: string;
  export default text;
}
declare module '*/ui/playground/messages.js' {
  const text: string;
  export default text;
}
declare module '*/ui/playground/personas.js' {
  const text: string;
  export default text;
}
declare module '*/ui/playground/picked.js' {
  const text: string;
  export default text;
}
declare module '*/ui/playground/session-actions.js' {
  const text: string;
  export default text;
}
declare module '*/ui/playground/sessions.js' {
  const text: string;
  export default text;
}
declare module '*/ui/playground/turn-stream.js' {
  const text: string;
  export default text;
}
declare module '*/ui/playground/state.js' {
  const text: string;
  export default text;
}
declare module '*/ui/widget/app.js' {
  const text: string;
  export default text;
}
declare module '*/ui/widget/chat.js' {
  const text: string;
  export default text;
}
declare module '*/ui/widget/client.js' {
  const text: string;
  export default text;
}
declare module '*/ui/widget/files.js' {
  const text: string;
  export default text;
}
declare module '*/ui/widget/main.js' {
  const text: string;
  export default text;
}
declare module '*/ui/widget/styles.js' {
  const text: string;
  export default text;
}
declare module '*/ui/widget/view.js' {
  const text: string;
  export default text;
}
