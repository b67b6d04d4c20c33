// The words every staff page shares (the top bar, the titles, the sign-in page), in English.
// Keys: the templates' data-i18n (desktop/templates/base.html, login.html) and
// static/common/staff-language.js; format: static/common/i18n.js. Each page family's own words
// are beside its script (static/desk/messages-en.js, ...).
export default {
  "date.day_time": "{day}, {time}",

  "title.login": "Sign in · otodesk",
  "title.desk": "Desk · otodesk",
  "title.wall": "Wall · otodesk",
  "title.planner": "Planner · otodesk",
  "title.reports": "Reports · otodesk",
  "title.admin": "Admin · otodesk",
  "title.customers": "Customers · otodesk",
  "title.cobrowse": "Co-browse · otodesk",

  "shell.skip": "Skip to content",
  "shell.sign_out": "Sign out",
  "nav.label": "Sections",
  "nav.desk": "Desk",
  "nav.wall": "Wall",
  "nav.planner": "Planner",
  "nav.reports": "Reports",
  "nav.admin": "Admin",
  "menu.language": "Language",
  "menu.browser_language": "Browser's language",
  "menu.save": "Save",

  "role.agent": "agent",
  "role.supervisor": "supervisor",
  "role.admin": "admin",
  "role.planner": "planner",

  "hub.connecting": "Connecting…",
  "hub.connected": "Connected",
  "hub.reconnecting": "Reconnecting…",

  "disposition.resolved": "Resolved",
  "disposition.sale_made": "Sale made",
  "disposition.follow_up": "Follow-up needed",
  "disposition.callback_scheduled": "Callback scheduled",
  "disposition.not_interested": "Not interested",
  "disposition.wrong_number": "Wrong number",
  "disposition.no_answer": "No answer",
  "disposition.escalated": "Escalated",

  "login.title": "Sign in",
  "login.who": "Agents and supervisors sign in here.",
  "login.username": "Username",
  "login.password": "Password",
  "login.submit": "Sign in",
  "login.or": "or",
  "login.sso": "Sign in with your {name}",
  "login.error.wrong": "Wrong username or password.",
  "login.error.session_expired": "Your session expired; please try again.",
  "login.error.throttled": { $plural: "minutes", one: "Too many failed sign-ins; try again in a minute.", other: "Too many failed sign-ins; try again in {minutes} minutes." },
  "login.error.sso_unreachable": "The company sign-in is unreachable right now; sign in with your password.",
  "login.error.sso_expired": "This sign-in link expired or was not started here; try again.",
  "login.error.sso_refused": "The company sign-in refused; try again.",
  "login.error.sso_disabled": "This account is disabled; ask an administrator.",
  "login.error.sso_failed": "The company sign-in could not be completed; try again.",
  "login.error.sso_no_role": "Your company account has no access to otodesk; ask your administrator.",
  "login.error.sso_taken": "A local account already has your username; ask your administrator.",
};
