// mcdash's pages: follow the page's own stream of updates (?live=stream,
// Server-Sent Events at the page's ?rate=) and swap the live sections and
// the charts' data in place.
"use strict";
(function () {
  const body = document.body;
  const rate = Number(body.dataset.rate) || 1;
  // With -token, the page was opened with ?token= once (mcdash then keeps
  // it in a cookie); the actions carry it too, for clients without.
  let token = "";
  if (body.dataset.token === "true") {
    token = new URLSearchParams(location.search).get("token") || sessionStorage.getItem("mcdash-token") || "";
    if (token) sessionStorage.setItem("mcdash-token", token);
  }
  const headers = token ? { Authorization: "Bearer " + token } : {};
  const live = document.getElementById("live");
  const ratePoints = 300; // points the rates line keeps

  function chart(id) {
    const el = document.getElementById(id);
    return el && window.echarts ? echarts.getInstanceByDom(el) : null;
  }

  // appendPoint adds the new poll's point to a chart that draws a line
  // over time: each update carries only its last point.
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

  function applyCharts(options) {
    for (const [id, opt] of Object.entries(options)) {
      const c = chart(id);
      if (!c) continue;
      if (document.getElementById(id).closest("[data-append]")) appendPoint(c, opt);
      // Replacing the series and axes' data only is cheaper than a
      // new option (notMerge), which rebuilds every component.
      else c.setOption({ xAxis: opt.xAxis, yAxis: opt.yAxis, series: opt.series }, { replaceMerge: ["series"], lazyUpdate: true });
    }
  }

  function state(on, why) {
    live.textContent = on ? "●" : "○";
    live.className = on ? "live on" : "live off";
    live.title = why;
  }

  const url = new URL(location.href);
  url.searchParams.set("live", "stream");
  url.searchParams.set("rate", rate);
  const events = new EventSource(url);
  events.onmessage = (e) => {
    const u = JSON.parse(e.data);
    if (u.gone) {
      // The instance or process is gone: the page says so.
      events.close();
      location.reload();
      return;
    }
    for (const [id, html] of Object.entries(u.sections || {})) {
      const el = document.getElementById(id);
      if (el) el.innerHTML = html;
    }
    if (u.charts) applyCharts(u.charts);
    state(true, "updated " + new Date().toLocaleTimeString());
  };
  events.onerror = () => state(false, "the update stream is down: retrying");

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
          shown = (v.file ? "written: " + v.file + "\n\n" : "") + JSON.stringify(v, null, 2);
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
