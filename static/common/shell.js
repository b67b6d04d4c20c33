// The sign-in page's words (it has no script of its own): the shell's catalogue only.
import { staffMessages } from "./staff-language.js";

staffMessages(null);
