#!/usr/bin/env node
// tests/bench/chrono.js: chrono-node on the time-parse corpus, for
// comparison with tests/bench/timeparse.c on the same phrases.
//
//	node tests/bench/chrono.js [CORPUS]
//
// chrono-node is not a dependency of salesline and is never installed by
// make.  It is looked for in $CHRONO_DIR (a directory with
// node_modules/chrono-node in it), then in build/chrono/node_modules;
// without it this prints one line saying so and exits 0.  To measure:
//
//	mkdir -p build/chrono && (cd build/chrono && npm install chrono-node)
//	node tests/bench/chrono.js
//
// Each phrase goes to chrono's parser for its language (chrono.ru or
// chrono.en) with the corpus's "now" as reference instant, the offset of
// "now" as reference zone (chrono takes no IANA zones), and forwardDate,
// which a follow-up needs ("Friday" is the coming one).  A phrase is right
// when the instant equals the expected one, or when both are null.  chrono
// puts a bare day at 12:00 where time-parse(1) says 10:00, so "same day"
// is printed too: the date right, whatever the time of day.
'use strict';

const fs = require('fs');
const path = require('path');

function findChrono() {
	const dirs = [];
	if (process.env.CHRONO_DIR)
		dirs.push(path.join(process.env.CHRONO_DIR, 'node_modules',
		    'chrono-node'), process.env.CHRONO_DIR);
	dirs.push(path.resolve('build', 'chrono', 'node_modules',
	    'chrono-node'));
	for (const d of dirs) {
		try {
			const m = require(d);
			let version = '?';
			try {
				version = JSON.parse(fs.readFileSync(
				    path.join(d, 'package.json'))).version;
			} catch (e) {
				// a directory without package.json: fine
			}
			return { chrono: m, version: version };
		} catch (e) {
			// not there: try the next
		}
	}
	return null;
}

// Minutes east of UTC of an RFC 3339 string.
function offsetOf(s) {
	const m = /([+-])(\d\d):(\d\d)$/.exec(s);
	if (!m)
		return 0;
	return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

// The civil date of instant t at offset off (minutes), as YYYY-MM-DD.
function dayAt(t, off) {
	return new Date(t + off * 60000).toISOString().slice(0, 10);
}

function main() {
	const corpus = process.argv[2] || 'tests/fixtures/time-corpus.jsonl';
	const found = findChrono();
	if (!found) {
		console.log('chrono-node: not installed (npm install ' +
		    'chrono-node in $CHRONO_DIR or build/chrono)');
		return;
	}
	const chrono = found.chrono;
	const cases = fs.readFileSync(corpus, 'utf8').split('\n')
	    .filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
	const stat = {
		ru: { n: 0, right: 0, day: 0 },
		en: { n: 0, right: 0, day: 0 },
	};
	let falseTimes = 0;
	const parse = (c) => {
		const p = c.lang === 'ru' && chrono.ru ? chrono.ru : chrono.en ||
		    chrono;
		return p.parseDate(c.text, {
			instant: new Date(c.now),
			timezone: offsetOf(c.now),
		}, { forwardDate: true });
	};
	for (const c of cases) {
		const s = stat[c.lang === 'ru' ? 'ru' : 'en'];
		let got = null;
		try {
			got = parse(c);
		} catch (e) {
			got = null;
		}
		s.n++;
		if (c.want === null) {
			if (got === null) {
				s.right++;
				s.day++;
			} else {
				falseTimes++;
			}
			continue;
		}
		if (got === null)
			continue;
		const want = Date.parse(c.want);
		if (got.getTime() === want)
			s.right++;
		if (dayAt(got.getTime(), offsetOf(c.want)) ===
		    dayAt(want, offsetOf(c.want)))
			s.day++;
	}
	const pct = (a, b) => (b ? (100 * a / b).toFixed(1) : '0.0');
	// speed: whole passes over the corpus for about a second
	let calls = 0;
	const t0 = process.hrtime.bigint();
	let t = 0;
	do {
		for (const c of cases) {
			try {
				parse(c);
			} catch (e) {
				// counted as a call all the same
			}
			calls++;
		}
		t = Number(process.hrtime.bigint() - t0) / 1e9;
	} while (t < 1);
	console.log('chrono-node ' + found.version + ': ' +
	    Math.round(calls / t) + ' expressions/s on one core (' +
	    Math.round(t / calls * 1e9) + ' ns each, ' + cases.length +
	    ' corpus phrases)');
	console.log('chrono-node accuracy: ru ' +
	    pct(stat.ru.right, stat.ru.n) + ' %, en ' +
	    pct(stat.en.right, stat.en.n) + ' % (' + stat.ru.right + '/' +
	    stat.ru.n + ', ' + stat.en.right + '/' + stat.en.n + '; ' +
	    falseTimes + ' false times in phrases without one); same day: ru ' +
	    pct(stat.ru.day, stat.ru.n) + ' %, en ' +
	    pct(stat.en.day, stat.en.n) + ' %');
}

main();
