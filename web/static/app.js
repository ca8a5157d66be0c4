// Charts from the data the page carries in <script type="application/json" id="…-data"> (no inline script).
for (const holder of document.querySelectorAll('script[type="application/json"][id$="-chart-data"]')) {
  const canvas = document.getElementById(holder.id.replace(/-data$/, ""));
  const data = JSON.parse(holder.textContent);
  if (!canvas || typeof Chart === "undefined") continue;
  new Chart(canvas, {
    type: canvas.id === "participation-chart" ? "line" : "bar",
    data: { labels: data.labels, datasets: data.series.map(s => ({ label: s.label, data: s.values.map(v => v === null ? null : Number(v)) })) },
    // As wide as the page allows (a phone's too), its height in the canvas's proportions; the values'
    // axis from 0, so one year's participation is not drawn as if it started from nothing (issue 15).
    options: { animation: false, responsive: true, scales: { y: { beginAtZero: true } } },
  });
}
