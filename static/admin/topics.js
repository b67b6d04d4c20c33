// A queue's topics as the console's textarea shows them: one a line, the plain text first, then
// the same topic per language after bars: "Payment failed | zh-CN: 付款失败 | zh-TW: 付款失敗".

const TRANSLATION = /^([A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,3})\s*[:：]\s*(\S.*)$/;

/** A line the console can't read: `line` is shown to the admin with the reason. */
export class TopicLineError extends Error {
  constructor(line) {
    super(`cannot read the topic line "${line}"`);
    this.line = line;
  }
}

/** The API's topics ([{text, translations}]) from the textarea; throws TopicLineError. */
export function topicsFromText(text) {
  const topics = [];
  for (const line of String(text || "").split("\n").map((l) => l.trim()).filter(Boolean)) {
    const [first, ...rest] = line.split("|").map((part) => part.trim());
    if (!first) throw new TopicLineError(line);
    const translations = {};
    for (const part of rest.filter(Boolean)) {
      const match = TRANSLATION.exec(part);
      if (!match) throw new TopicLineError(line);
      translations[match[1]] = match[2].trim();
    }
    topics.push({ text: first, translations });
  }
  return topics;
}

/** The textarea's text for the API's topics. */
export function topicsToText(topics) {
  return (topics || []).map((topic) => [topic.text, ...Object.entries(topic.translations || {})
    .map(([tag, words]) => `${tag}: ${words}`)].join(" | ")).join("\n");
}
