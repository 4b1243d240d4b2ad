// mcdash's pages: follow the API's event stream and, at each event,
// re-read the page and swap its live sections and chart data in place.
"use strict";
(function () {
  const body = document.body;
  const rate = Number(body.dataset.rate) || 1;
  const params = new URLSearchParams(location.search);
  let token = "";
  if (body.dataset.token === "true") {
    token = params.get("token") || sessionStorage.getItem("mcdash-token") || "";
    if (token) sessionStorage.setItem("mcdash-token", token);
  }
  const headers = token ? { Authorization: "Bearer " + token } : {};
  const live = document.getElementById("live");
  const ratePoints = 300; // points the rates line keeps
  let busy = false;
  let lastEvent = 0;

  function chart(id) {
    const el = document.getElementById(id);
    return el && window.echarts ? echarts.getInstanceByDom(el) : null;
  }

  // appendPoint adds the new poll's point to a chart that draws a line
  // over time: each page carries only its last point.
  function appendPoint(c, opt) {
    const x = opt.xAxis && opt.xAxis[0].data;
    if (!x || !x.length) return;
    const cur = c.getOption();
    const xs = cur.xAxis[0].data || [];
    const at = x[x.length - 1];
    if (xs.length && xs[xs.length - 1] === at) return;
    xs.push(at);
    const series = cur.series.map((s, i) => {
      const d = s.data || [];
      const add = opt.series[i].data;
      d.push(add[add.length - 1]);
      return { data: d.slice(-ratePoints) };
    });
    c.setOption({ xAxis: [{ data: xs.slice(-ratePoints) }], series: series });
  }

  function applyCharts(data) {
    for (const [id, opt] of Object.entries(data)) {
      const c = chart(id);
      if (!c) continue;
      if (document.getElementById(id).closest("[data-append]")) appendPoint(c, opt);
      else c.setOption(opt, { notMerge: true });
    }
  }

  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      const r = await fetch(location.href, { headers: headers, cache: "no-store" });
      const doc = new DOMParser().parseFromString(await r.text(), "text/html");
      for (const el of document.querySelectorAll("[data-live]")) {
        const fresh = doc.getElementById(el.id);
        if (fresh && fresh.innerHTML !== el.innerHTML) el.innerHTML = fresh.innerHTML;
      }
      const data = doc.getElementById("chart-data");
      if (data) applyCharts(JSON.parse(data.textContent));
      live.textContent = "●";
      live.className = "live on";
      live.title = "updated " + new Date().toLocaleTimeString();
    } catch (e) {
      live.textContent = "○";
      live.className = "live off";
      live.title = String(e);
    } finally {
      busy = false;
    }
  }

  const events = new EventSource("/api/v1/events?rate=" + rate + (token ? "&token=" + encodeURIComponent(token) : ""));
  const onEvent = () => {
    lastEvent = Date.now();
    refresh();
  };
  events.onmessage = onEvent;
  events.addEventListener("poll", onEvent); // web/api names its events "poll"
  // Without the stream (an error, a proxy that buffers it), the page
  // still follows its rate.
  setInterval(() => {
    if (Date.now() - lastEvent > 2000 + 1000 / rate) refresh();
  }, 1000 / rate);

  for (const b of document.querySelectorAll("[data-post]")) {
    b.addEventListener("click", async () => {
      const out = b.parentElement.querySelector(".result");
      b.disabled = true;
      out.textContent = b.textContent + ": working…";
      try {
        const r = await fetch(b.dataset.post, { method: "POST", headers: headers });
        const text = await r.text();
        let shown = text;
        try {
          const v = JSON.parse(text);
          shown = (v.file || v.path ? "written: " + (v.file || v.path) + "\n\n" : "") + JSON.stringify(v, null, 2);
        } catch (_) {}
        out.textContent = (r.ok ? "" : r.status + " " + r.statusText + "\n") + shown;
      } catch (e) {
        out.textContent = String(e);
      } finally {
        b.disabled = false;
      }
    });
  }
})();
