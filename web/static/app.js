// Charts from the data the page carries in <script type="application/json" id="…-data"> (no inline script).
for (const holder of document.querySelectorAll('script[type="application/json"][id$="-chart-data"]')) {
  const canvas = document.getElementById(holder.id.replace(/-data$/, ""));
  const data = JSON.parse(holder.textContent);
  if (!canvas || typeof Chart === "undefined") continue;
  new Chart(canvas, {
    type: canvas.id === "participation-chart" ? "line" : "bar",
    data: { labels: data.labels, datasets: data.series.map(s => ({ label: s.label, data: s.values.map(v => v === null ? null : Number(v)) })) },
    options: { animation: false, responsive: false },
  });
}
