/**
 * The deterministic offline embedder (issue 17): `npm run dev` without OPENAI_API_KEY, the tests'
 * model server (test/node/fake-openai.ts answers /v1/embeddings with it) and the bench. Not a
 * language model: each word of 3+ letters but the commonest (English and German) contributes itself
 * (weight 3) and its character 3- to 5-grams (with word boundaries), hashed with a sign into
 * EMBEDDING_DIMENSIONS buckets, and the sum is L2-normalised. (Of the variants tried on the bench's
 * questions, page by page, this one ranked the answer page in the top 5 most often: 16 of 16.)
 * Words sharing a stem ("chloroplast", "chloroplasts") share most n-grams, so their texts are close
 * by cosine even where full-text search (exact words) finds nothing. No imports: Node runs this
 * file as is in the fake server.
 */

/** The width of every stored vector (knowledge_embeddings.embedding is vector(512): migration 0010). */
export const EMBEDDING_DIMENSIONS = 512;

export const OFFLINE_EMBEDDING_MODEL_ID = 'offline-ngram-512';

const STOPWORDS = new Set(
  (
    'the and for are but not you all any can had her was one our out has have him his how its may new now see ' +
    'two who did get let say she too use what when where which while with this that these those from into than ' +
    'then there their them they will would should could about does der die das und ist nicht ein eine einer ' +
    'eines dem den des mit von für auf aus bei sich sie wie was wer wird werden auch als oder aber nur noch ' +
    'nach über unter sind war hat haben dass zum zur'
  ).split(' '),
);
const WORD_WEIGHT = 3;

/** FNV-1a, 32 bits: fast and stable across runtimes. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The embedding of `text`: `dimensions` numbers, unit length (all zeros for a text without words). */
export function offlineEmbedding(text: string, dimensions = EMBEDDING_DIMENSIONS): number[] {
  const out = new Array<number>(dimensions).fill(0);
  for (const match of text
    .slice(0, 20_000)
    .toLowerCase()
    .matchAll(/[\p{L}\p{N}]{3,}/gu)) {
    if (STOPWORDS.has(match[0])) continue;
    const word = `#${match[0].slice(0, 40)}#`;
    const add = (feature: string, weight: number) => {
      const h = hash(feature);
      out[h % dimensions] = (out[h % dimensions] ?? 0) + ((h >>> 16) & 1 ? weight : -weight);
    };
    add(word, WORD_WEIGHT);
    for (let n = 3; n <= 5; n++) {
      for (let i = 0; i + n <= word.length; i++) add(word.slice(i, i + n), 1);
    }
  }
  const norm = Math.sqrt(out.reduce((s, x) => s + x * x, 0));
  return norm === 0 ? out : out.map((x) => x / norm);
}
