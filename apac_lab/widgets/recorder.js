// The browser half of apac_lab.widgets.Recorder (an anywidget ES module, no build step).
//
// It asks for the microphone (getUserMedia), records mono float32 samples at the audio
// context's own rate (often 48 kHz) for a fixed length or while the button is held, and
// streams them to the kernel as they arrive, as raw bytes in the comm's buffers:
//   {type: "start", rate}            once, before any samples
//   {type: "chunk", index} + buffer  about every chunk_ms (little-endian float32)
//   {type: "end", samples, reason}   once, after the last chunk
//   {type: "error", name, message}   instead, when the browser cannot record
// The kernel resamples, checks and draws (Recorder.handle_message); this side only
// records, shows a level meter and says what it is doing.

const TAP = `
class ApacTap extends AudioWorkletProcessor {
  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel && channel.length) this.port.postMessage(channel.slice(0));
    return true;
  }
}
registerProcessor("apac-tap", ApacTap);
`;

const CSS = `
.apac-recorder { display: flex; align-items: center; gap: 12px; padding: 4px 0; font-size: 13px; }
.apac-recorder button { min-width: 150px; }
.apac-recorder .apac-meter { position: relative; width: 220px; height: 14px; background: #eee;
  border: 1px solid #bbb; border-radius: 3px; overflow: hidden; }
.apac-recorder .apac-meter-bar { position: absolute; left: 0; top: 0; bottom: 0; width: 0%;
  background: #35b779; transition: width 40ms linear; }
.apac-recorder .apac-meter-bar.apac-hot { background: #b2182b; }
.apac-recorder .apac-status { color: #444; }
`;

function peakOf(x) {
  let p = 0;
  for (let i = 0; i < x.length; i++) { const a = Math.abs(x[i]); if (a > p) p = a; }
  return p;
}

// Start capturing: calls onSamples(Float32Array) for every block; returns a stop() function.
async function openCapture(ctx, stream, onSamples) {
  const source = ctx.createMediaStreamSource(stream);
  const sink = ctx.createGain();
  sink.gain.value = 0; // keep the graph pulled without playing the microphone back
  sink.connect(ctx.destination);
  let node;
  if (ctx.audioWorklet && typeof AudioWorkletNode !== "undefined") {
    const url = URL.createObjectURL(new Blob([TAP], { type: "application/javascript" }));
    try {
      await ctx.audioWorklet.addModule(url);
    } finally {
      URL.revokeObjectURL(url);
    }
    node = new AudioWorkletNode(ctx, "apac-tap", { numberOfInputs: 1, numberOfOutputs: 1, channelCount: 1,
                                                  channelCountMode: "explicit" });
    node.port.onmessage = (e) => onSamples(e.data);
  } else { // older browsers: the deprecated ScriptProcessorNode
    node = ctx.createScriptProcessor(4096, 1, 1);
    node.onaudioprocess = (e) => onSamples(new Float32Array(e.inputBuffer.getChannelData(0)));
  }
  source.connect(node);
  node.connect(sink);
  return () => {
    try { source.disconnect(); node.disconnect(); sink.disconnect(); } catch (e) { /* already gone */ }
    if (node.port) node.port.onmessage = null;
    stream.getTracks().forEach((t) => t.stop());
  };
}

function render({ model, el }) {
  const style = document.createElement("style");
  style.textContent = CSS;
  const root = document.createElement("div");
  root.className = "apac-recorder";
  const button = document.createElement("button");
  button.className = "jupyter-widgets jupyter-button widget-button apac-record";
  const meter = document.createElement("div");
  meter.className = "apac-meter";
  meter.title = "input level (full bar = 0 dBFS, red above -3 dBFS)";
  const bar = document.createElement("div");
  bar.className = "apac-meter-bar";
  meter.appendChild(bar);
  const status = document.createElement("span");
  status.className = "apac-status";
  root.append(button, meter, status);
  el.append(style, root);

  let session = null; // the recording in progress
  let level = 0; // the meter's peak, decaying
  let frame = null;

  const label = () => (model.get("mode") === "push" ? "● Hold to talk" : `● Record ${model.get("seconds")} s`);
  const say = (text) => { status.textContent = text; };
  button.textContent = label();
  say(model.get("mode") === "push" ? "hold the button while you speak" : "press to record");
  model.on("change:seconds", () => { if (!session) button.textContent = label(); });
  model.on("change:mode", () => { if (!session) button.textContent = label(); });

  function drawMeter() {
    const db = level > 0 ? 20 * Math.log10(level) : -90;
    bar.style.width = `${Math.max(0, Math.min(100, (db + 60) / 60 * 100))}%`;
    bar.classList.toggle("apac-hot", db > -3);
    level *= 0.9;
    frame = session ? requestAnimationFrame(drawMeter) : null;
  }

  function fail(name, message) {
    say(`could not record (${name})`);
    model.send({ type: "error", name, message: String(message || "") });
  }

  // the microphone did not open (or its capture did not start): release what was taken, say why
  function abandon(s, stream, e) {
    if (stream) stream.getTracks().forEach((t) => t.stop());
    s.finished = true;
    s.ctx.close().catch(() => {});
    session = null;
    model.set("busy", false);
    model.save_changes();
    fail((e && e.name) || "Error", (e && e.message) || e);
  }

  function finish(reason) {
    const s = session;
    if (!s || s.finished) return;
    s.finished = true;
    if (s.stop) s.stop();
    if (s.pending.length) send(s, concat(s.pending));
    s.pending = [];
    model.send({ type: "end", samples: s.total, reason });
    if (s.ctx) s.ctx.close().catch(() => {});
    session = null;
    model.set("busy", false);
    model.save_changes();
    level = 0;
    drawMeter();
    button.textContent = label();
    say(`sent ${(s.total / s.rate).toFixed(2)} s at ${s.rate} Hz`);
  }

  function concat(parts) {
    const n = parts.reduce((a, p) => a + p.length, 0);
    const out = new Float32Array(n);
    let i = 0;
    for (const p of parts) { out.set(p, i); i += p.length; }
    return out;
  }

  function send(s, samples) {
    model.send({ type: "chunk", index: s.chunks++ }, undefined, [samples.buffer]);
  }

  function onSamples(s, block) {
    if (s.finished) return;
    const room = s.limit - s.total;
    if (block.length > room) block = block.subarray(0, room);
    s.total += block.length;
    s.pending.push(block);
    s.pendingSamples += block.length;
    level = Math.max(level, peakOf(block));
    if (s.pendingSamples >= s.chunkSamples) {
      send(s, concat(s.pending));
      s.pending = [];
      s.pendingSamples = 0;
    }
    say(`recording ${(s.total / s.rate).toFixed(1)} s`);
    if (s.total >= s.limit) finish(model.get("mode") === "push" ? "max_seconds" : "done");
  }

  async function start() {
    if (session) return;
    const md = navigator.mediaDevices;
    if (!window.isSecureContext || !md || !md.getUserMedia) {
      fail("NoMediaDevices", window.isSecureContext ? "this browser has no getUserMedia"
        : "the page is not a secure context (https or localhost)");
      return;
    }
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) { fail("NoWebAudio", "this browser has no AudioContext"); return; }
    // Created inside the click, so the autoplay policy lets it run.
    const s = { ctx: new Ctx(), total: 0, chunks: 0, pending: [], pendingSamples: 0, finished: false,
                released: false, stop: null };
    session = s;
    s.rate = s.ctx.sampleRate;
    const push = model.get("mode") === "push";
    s.limit = Math.round((push ? model.get("max_seconds") : model.get("seconds")) * s.rate);
    s.chunkSamples = Math.max(128, Math.round(model.get("chunk_ms") / 1000 * s.rate));
    model.set("busy", true);
    model.save_changes();
    say("asking for the microphone…");
    let stream;
    try {
      const processing = model.get("processing");
      stream = await md.getUserMedia({ audio: { channelCount: 1, echoCancellation: processing,
                                                noiseSuppression: processing, autoGainControl: processing },
                                       video: false });
    } catch (e) {
      abandon(s, null, e);
      return;
    }
    try {
      await s.ctx.resume();
      model.send({ type: "start", rate: s.rate });
      s.stop = await openCapture(s.ctx, stream, (block) => onSamples(s, block));
    } catch (e) {
      abandon(s, stream, e);
      return;
    }
    button.textContent = push ? "● Recording… (release to stop)" : "● Recording…";
    drawMeter();
    if (push && s.released) finish("released"); // let go before the microphone opened
  }

  function release() {
    if (model.get("mode") !== "push" || !session) return;
    session.released = true;
    if (session.stop) finish("released");
  }

  button.addEventListener("pointerdown", (e) => { if (model.get("mode") === "push") { e.preventDefault(); start(); } });
  button.addEventListener("pointerup", release);
  button.addEventListener("pointerleave", release);
  button.addEventListener("click", () => { if (model.get("mode") !== "push") start(); });

  return () => { if (session) finish("closed"); if (frame) cancelAnimationFrame(frame); };
}

export default { render };
