// The desk's words (and the customers page's, and the co-browse window's) in the page's language (static/common/staff-language.js).
import { staffMessages } from "../common/staff-language.js";

export const messages = await staffMessages({
  en: () => import("./messages-en.js"),
  "zh-CN": () => import("./messages-zh-CN.js"),
  "zh-TW": () => import("./messages-zh-TW.js"),
});
export const { t, number, money, percent, ratio, dateTime, timeOfDay, ago, list, duration } = messages;
