"""The dashboard's page (room_view.py): plain HTML and a little JavaScript, no build step.

A string module rather than an .html file, so it ships with the package as any module does. The
script reads the admin token from the page's own URL (`?token=`), asks `room.json` for the rows
every second with it, and redraws the table; a refused or failed request shows in the status line.
"""

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>The room</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
  table { border-collapse: collapse; }
  th, td { padding: 0.3rem 0.8rem; border-bottom: 1px solid #ddd; text-align: right; vertical-align: top; }
  th { background: #f3f3f3; white-space: nowrap; }
  td:first-child { white-space: nowrap; }
  th:first-child, td:first-child, th:last-child, td:last-child { text-align: left; }
  td.alert { color: #b00020; font-weight: bold; }
  #status { color: #555; }
</style>
</head>
<body>
<h1>The room</h1>
<p id="status">Loading…</p>
<table>
  <thead><tr>
    <th>Learner</th><th>Calls</th><th>In flight</th><th>Queued</th><th>429s (rate limited)</th>
    <th>Errors</th><th>Last seen</th><th>Exercises passed</th>
  </tr></thead>
  <tbody id="rows"></tbody>
</table>
<script>
const token = new URLSearchParams(location.search).get("token");
const headers = token ? {"x-admin-token": token} : {};

function lastSeen(seconds) {
  if (seconds === null) return "never";
  if (seconds < 60) return Math.round(seconds) + " s ago";
  return Math.round(seconds / 60) + " min ago";
}

function cell(text, alert) {
  const td = document.createElement("td");
  td.textContent = text;
  if (alert) td.className = "alert";
  return td;
}

function draw(rows) {
  const body = document.getElementById("rows");
  body.replaceChildren(...rows.map(row => {
    const tr = document.createElement("tr");
    const passed = row.exercises_passed;
    tr.append(cell(row.learner), cell(row.calls), cell(row.in_flight), cell(row.queued),
              cell(row.rate_limited, row.rate_limited > 0), cell(row.errors, row.errors > 0),
              cell(lastSeen(row.last_seen_seconds)),
              cell(passed.length ? passed.length + ": " + passed.join("; ") : "none yet"));
    return tr;
  }));
}

async function refresh() {
  const status = document.getElementById("status");
  try {
    const response = await fetch("room.json", {headers, cache: "no-store"});
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error ? answer.error.message : response.statusText);
    draw(answer.rows);
    status.textContent = answer.rows.length + " learners, updated " + new Date().toLocaleTimeString();
  } catch (error) {
    status.textContent = "Cannot read the room: " + error.message;
  }
}

refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
"""
