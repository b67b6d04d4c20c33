// What a queue offers a customer in their language, as the admin console set it (issue 14):
// which queue serves the widget's language, and its topics in that language.

const base = (tag) => String(tag).toLowerCase().split("-")[0];

/**
 * The queue for a customer whose widget speaks `locale`, when the site named none: the first
 * whose agents speak it exactly ("zh-CN"), else the first speaking the same language ("zh"),
 * else null (the first queue, as before).
 */
export function queueForLanguage(queues, locale) {
  const speaks = (match) => queues.find((queue) => (queue.languages || []).some(match));
  const wanted = String(locale).toLowerCase();
  return speaks((tag) => tag.toLowerCase() === wanted) ?? speaks((tag) => base(tag) === base(wanted)) ?? null;
}

/** A topic's words in `locale`: its translation for it (or for the bare language), else its text. */
export function topicText(topic, locale) {
  const translations = topic?.translations || {};
  const tag = Object.keys(translations).find((key) => key.toLowerCase() === String(locale).toLowerCase())
    ?? Object.keys(translations).find((key) => key.toLowerCase() === base(locale));
  return tag ? translations[tag] : String(topic?.text ?? "");
}
