// Dates written from the server's CLDR data (GET /i18n/{lang}/calendar.json,
// server/pwa/calendar.py, kept by the service worker), not from the
// browser's: a phone's Chromium may have no Kazakh date data and writes
// "2026 M11 28, Sat". Intl is used only to move a moment into the user's
// time zone, through numeric fields that need no locale data.

/**
 * @typedef {object} Calendar
 * @property {{wide: string[], abbreviated: string[], standalone: string[], standaloneAbbreviated: string[]}} months
 * @property {{wide: string[], abbreviated: string[], standalone: string[]}} days Sunday first
 * @property {{medium: string, full: string}} date CLDR date patterns
 * @property {string} time the 24-hour clock's pattern
 * @property {{medium: string, full: string}} joined "{1}, {0}": date {1} and time {0}
 */

/**
 * @typedef {object} Fields
 * @property {number} year
 * @property {number} month 1–12
 * @property {number} day
 * @property {number} weekday 0 is Sunday
 * @property {number} hour 0–23
 * @property {number} minute
 * @property {number} second
 */

/** @typedef {'medium' | 'full'} Style */

/** @type {Record<string, Calendar>} the language's calendar per country ("" for none) */
let calendars = {};

/** @param {string} lang */
export async function load(lang) {
  try {
    const response = await fetch(`/i18n/${encodeURIComponent(lang)}/calendar.json`);
    calendars = response.ok ? await response.json() : {};
  } catch {
    calendars = {}; // offline before the worker stored it: ISO dates are still readable
  }
}

/**
 * @param {string | null | undefined} country
 * @returns {Calendar | null}
 */
function calendarOf(country) {
  return calendars[country || ''] || calendars[''] || null;
}

/**
 * The moment's wall-clock fields in `timeZone`.
 * @param {Date} moment
 * @param {string | null | undefined} timeZone
 * @returns {Fields}
 */
export function fieldsIn(moment, timeZone) {
  /** @type {Intl.DateTimeFormatOptions} */
  const numeric = {
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
    hourCycle: 'h23',
  };
  let format;
  try {
    format = new Intl.DateTimeFormat('en-US', { ...numeric, timeZone: timeZone || 'UTC' });
  } catch {
    format = new Intl.DateTimeFormat('en-US', { ...numeric, timeZone: 'UTC' }); // an unknown zone
  }
  /** @type {Record<string, number>} */
  const found = {};
  for (const part of format.formatToParts(moment)) {
    if (part.type !== 'literal') found[part.type] = Number(part.value);
  }
  const { year, month, day } = found;
  return {
    year,
    month,
    day,
    weekday: new Date(Date.UTC(year, month - 1, day)).getUTCDay(),
    hour: found.hour % 24,
    minute: found.minute,
    second: found.second,
  };
}

/** @param {string} day YYYY-MM-DD @returns {Fields} */
function fieldsOfDay(day) {
  const [year, month, date] = day.split('-').map(Number);
  const weekday = new Date(Date.UTC(year, month - 1, date)).getUTCDay();
  return { year, month, day: date, weekday, hour: 0, minute: 0, second: 0 };
}

/** @param {number} value @param {number} width */
const pad = (value, width) => String(value).padStart(width, '0');

/**
 * One field of a CLDR pattern ("MMMM", "d", "HH").
 * @param {string} letter
 * @param {number} width
 * @param {Fields} f
 * @param {Calendar} cal
 * @returns {string}
 */
function field(letter, width, f, cal) {
  switch (letter) {
    case 'y':
    case 'Y':
    case 'u':
      return width === 2 ? pad(f.year % 100, 2) : pad(f.year, width);
    case 'M':
    case 'L': {
      const standalone = letter === 'L';
      if (width >= 4) return (standalone ? cal.months.standalone : cal.months.wide)[f.month - 1];
      if (width === 3) {
        return (standalone ? cal.months.standaloneAbbreviated : cal.months.abbreviated)[f.month - 1];
      }
      return pad(f.month, width);
    }
    case 'd':
      return pad(f.day, width);
    case 'E':
      return (width >= 4 ? cal.days.wide : cal.days.abbreviated)[f.weekday];
    case 'c':
    case 'e':
      if (width >= 4) return (letter === 'c' ? cal.days.standalone : cal.days.wide)[f.weekday];
      return width === 3 ? cal.days.abbreviated[f.weekday] : String(f.weekday || 7);
    case 'H':
      return pad(f.hour, width);
    case 'k':
      return pad(f.hour || 24, width);
    case 'h':
      return pad(f.hour % 12 || 12, width);
    case 'K':
      return pad(f.hour % 12, width);
    case 'm':
      return pad(f.minute, width);
    case 's':
      return pad(f.second, width);
    default:
      return ''; // eras, zones, day periods: not in the patterns we are sent
  }
}

/**
 * Write `f` with a CLDR pattern: letters are fields, 'quoted' text is literal.
 * @param {string} pattern
 * @param {Fields} f
 * @param {Calendar} cal
 * @returns {string}
 */
export function applyPattern(pattern, f, cal) {
  let out = '';
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === "'") {
      if (pattern[i + 1] === "'") {
        out += "'";
        i += 2;
        continue;
      }
      const end = pattern.indexOf("'", i + 1);
      const stop = end === -1 ? pattern.length : end;
      out += pattern.slice(i + 1, stop).replaceAll("''", "'");
      i = stop + 1;
    } else if (/[A-Za-z]/.test(c)) {
      let j = i;
      while (pattern[j] === c) j += 1;
      out += field(c, j - i, f, cal);
      i = j;
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

/**
 * A calendar day (YYYY-MM-DD), as the user's country writes it.
 * @param {string} day
 * @param {{country?: string | null, style?: Style}} [options]
 * @returns {string}
 */
export function formatDay(day, { country, style = 'medium' } = {}) {
  const cal = calendarOf(country);
  if (!cal || !/^\d{4}-\d{2}-\d{2}$/.test(day)) return day;
  return applyPattern(cal.date[style], fieldsOfDay(day), cal);
}

/**
 * The day a moment falls on in the user's zone.
 * @param {string | Date} moment
 * @param {{timeZone?: string | null, country?: string | null, style?: Style}} [options]
 * @returns {string}
 */
export function formatDate(moment, { timeZone, country, style = 'medium' } = {}) {
  const cal = calendarOf(country);
  const when = new Date(moment);
  if (!cal || Number.isNaN(when.getTime())) return String(moment);
  return applyPattern(cal.date[style], fieldsIn(when, timeZone), cal);
}

/**
 * The time of a moment on the user's 24-hour clock, in their zone.
 * @param {string | Date} moment
 * @param {{timeZone?: string | null, country?: string | null}} [options]
 * @returns {string}
 */
export function formatTime(moment, { timeZone, country } = {}) {
  const cal = calendarOf(country);
  const when = new Date(moment);
  if (Number.isNaN(when.getTime())) return String(moment);
  const f = fieldsIn(when, timeZone);
  return cal ? applyPattern(cal.time, f, cal) : `${pad(f.hour, 2)}:${pad(f.minute, 2)}`;
}

/**
 * Day and time of a moment, joined the locale's way ("{1}, {0}").
 * @param {string | Date} moment
 * @param {{timeZone?: string | null, country?: string | null, style?: Style}} [options]
 * @returns {string}
 */
export function formatDateTime(moment, { timeZone, country, style = 'medium' } = {}) {
  const cal = calendarOf(country);
  if (!cal) return String(moment);
  const day = formatDate(moment, { timeZone, country, style });
  const time = formatTime(moment, { timeZone, country });
  return cal.joined[style].replaceAll("'", '').replace('{1}', day).replace('{0}', time);
}

/**
 * An appointment's day and its start and end times ("Saturday, 28 November
 * 2026, 10:00–11:00"), joined the locale's way as on the server's pages.
 * @param {string | Date} start
 * @param {string | Date} end
 * @param {{timeZone?: string | null, country?: string | null}} [options]
 * @returns {string}
 */
export function formatWhen(start, end, { timeZone, country } = {}) {
  const cal = calendarOf(country);
  if (!cal) return String(start);
  const day = formatDate(start, { timeZone, country, style: 'full' });
  const times = `${formatTime(start, { timeZone, country })}–${formatTime(end, { timeZone, country })}`;
  return cal.joined.full.replaceAll("'", '').replace('{1}', day).replace('{0}', times);
}

/**
 * The day a moment falls on in `timeZone`, as YYYY-MM-DD: to compare days.
 * @param {string | Date} moment
 * @param {string | null | undefined} timeZone
 * @returns {string}
 */
export function dayKey(moment, timeZone) {
  const f = fieldsIn(new Date(moment), timeZone);
  return `${pad(f.year, 4)}-${pad(f.month, 2)}-${pad(f.day, 2)}`;
}
