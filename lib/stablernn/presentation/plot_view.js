// The front end of presentation/plot_view.py: one plotly figure, drawn with plotly.js's cartesian
// bundle (served by the dashboards' Voilà template) or, where that is not served, plotly's full
// bundle sent once by the kernel. Updates carry only what changed.

const BUNDLE = "voila/templates/stablernn/static/plotly-cartesian.min.js";
const CONFIG = { responsive: true, displaylogo: false };

function baseUrl() {
  try {
    return JSON.parse(document.getElementById("jupyter-config-data").textContent).baseUrl || "/";
  } catch (err) {
    return "/";
  }
}

// plotly.js is a UMD bundle: with an AMD loader on the page it would register there instead of
// setting window.Plotly, so the loader is hidden while the bundle runs.
function runScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    const define = window.define;
    window.define = undefined;
    const done = (ok) => () => {
      window.define = define;
      ok && window.Plotly ? resolve(window.Plotly) : reject(new Error(`plotly.js not loaded from ${src}`));
    };
    script.onload = done(true);
    script.onerror = done(false);
    script.src = src;
    document.head.appendChild(script);
  });
}

// One copy of plotly.js per page, however many plots it has.
function plotly(model) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!window.stablernnPlotly) {
    window.stablernnPlotly = runScript(baseUrl() + BUNDLE).catch(() => new Promise((resolve, reject) => {
      const onBundle = (msg, buffers) => {
        if (msg.method !== "plotly") return;
        model.off("msg:custom", onBundle);
        const url = URL.createObjectURL(new Blob([buffers[0]], { type: "text/javascript" }));
        runScript(url).then(resolve, reject).finally(() => URL.revokeObjectURL(url));
      };
      model.on("msg:custom", onBundle);
      model.send({ ask: "plotly" });
    }));
  }
  return window.stablernnPlotly;
}

// null in a restyle list means "leave this trace as it is" (JSON has no undefined)
function restyleOf(restyle) {
  const out = {};
  for (const [path, values] of Object.entries(restyle)) out[path] = values.map((v) => (v === null ? undefined : v));
  return out;
}

async function render({ model, el }) {
  const div = document.createElement("div");
  div.style.width = "100%";
  el.appendChild(div);
  let Plotly = null;
  const pending = [];
  const apply = (msg) => {
    if (msg.method === "update") return Plotly.update(div, restyleOf(msg.restyle), msg.relayout, msg.traces);
    if (msg.method === "react") return Plotly.react(div, msg.figure.data, msg.figure.layout, CONFIG);
  };
  const onMessage = (msg) => {
    if (msg.method === "update" || msg.method === "react") Plotly ? apply(msg) : pending.push(msg);
  };
  model.on("msg:custom", onMessage);
  const loaded = await plotly(model);
  const figure = model.get("figure");
  await loaded.newPlot(div, figure.data, figure.layout, CONFIG);
  Plotly = loaded;
  for (const msg of pending.splice(0)) await apply(msg);
  model.send({ ask: "figure" }); // a view opened after the figure changed is sent it as it is now
  const resize = new ResizeObserver(() => Plotly.Plots.resize(div).catch(() => {})); // hidden: nothing to fit
  resize.observe(el);
  return () => {
    model.off("msg:custom", onMessage);
    resize.disconnect();
    Plotly.purge(div);
  };
}

export default { render };
