// openpose-py live page: camera frames over the WebSocket /v1/stream, skeletons drawn over the video.
// The skeleton (limbs and colours) comes from GET /v1/skeleton, the same table the CLI renders with.
"use strict";
(function () {
  const token = new URLSearchParams(location.search).get("token");
  const withToken = (path) => token ? `${path}${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}` : path;
  const video = document.getElementById("video");
  const overlay = document.getElementById("overlay");
  const statusLine = document.getElementById("status");
  const button = document.getElementById("toggle");
  const grab = document.createElement("canvas");
  const MAX_SIDE = 640;           // frames are scaled down to this before sending
  const RENDER_THRESHOLD = 0.05;  // as the CLI's --render-threshold default

  // state visible to tests and the console
  const state = window.openposePy = { people: [], frames: 0, errors: 0, fps: 0, latencyMs: 0, lastError: null,
                                      frameSize: null, skeleton: null, drawn: 0 };
  let socket = null, stream = null, inFlight = false, sentAt = 0, lastAnswer = 0;

  function setStatus(text, isError) {
    statusLine.textContent = text;
    statusLine.classList.toggle("error", !!isError);
  }

  async function loadSkeleton() {
    const reply = await fetch(withToken("v1/skeleton"));
    if (!reply.ok) throw new Error(`GET /v1/skeleton: ${reply.status} ${(await reply.json()).error || ""}`);
    state.skeleton = await reply.json();
  }

  // edges (each in its second point's colour), then the points; kp is OpenPose's flat x, y, score list
  function drawGraph(ctx, kp, edges, colorOf, shown, width, radius) {
    ctx.lineWidth = width;
    for (const [a, b] of edges) {
      if (!shown(a) || !shown(b)) continue;
      ctx.strokeStyle = colorOf(b);
      ctx.beginPath();
      ctx.moveTo(kp[3 * a], kp[3 * a + 1]);
      ctx.lineTo(kp[3 * b], kp[3 * b + 1]);
      ctx.stroke();
    }
    for (let i = 0; 3 * i < kp.length; i++) {
      if (!shown(i)) continue;
      ctx.fillStyle = colorOf(i);
      ctx.beginPath();
      ctx.arc(kp[3 * i], kp[3 * i + 1], radius, 0, 2 * Math.PI);
      ctx.fill();
    }
  }

  // hands and face (serve --hand / --face): each edge in its second point's colour, then the points, strokes sized
  // from the part's own extent, as the CLI renders them
  function drawParts(ctx, person) {
    const tables = (state.skeleton && state.skeleton.parts) || {};
    const fields = [["hand", "hand_left_keypoints_2d"], ["hand", "hand_right_keypoints_2d"], ["face", "face_keypoints_2d"]];
    for (const [key, field] of fields) {
      const table = tables[key], kp = person[field];
      if (!table || !kp || kp.length !== 3 * table.keypoints.length) continue;
      const shown = (i) => kp[3 * i + 2] > RENDER_THRESHOLD;
      const xs = [], ys = [];
      table.keypoints.forEach((_, i) => { if (shown(i)) { xs.push(kp[3 * i]); ys.push(kp[3 * i + 1]); } });
      if (xs.length < 2) continue;
      const line = Math.max(1, Math.round(Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)) / 60));
      drawGraph(ctx, kp, table.edges, (i) => `rgb(${table.colors[i].join(",")})`, shown, line, line);
    }
  }

  function drawPeople(ctx, people, width, height, clear = true) {
    const sk = state.skeleton;
    if (clear) ctx.clearRect(0, 0, width, height);
    if (!sk) return;
    const base = Math.sqrt(width * height) / 75;
    const rgb = (i) => `rgb(${sk.colors[i].join(",")})`;
    for (const person of people) {
      const kp = person.pose_keypoints_2d;
      const visible = (i) => kp[3 * i + 2] > RENDER_THRESHOLD;
      const xs = [], ys = [];
      sk.keypoints.forEach((_, i) => { if (visible(i)) { xs.push(kp[3 * i]); ys.push(kp[3 * i + 1]); } });
      if (!xs.length) continue;
      // strokes shrink for people small in the frame, as in the CLI renders
      const ratio = Math.min(1, Math.max((Math.max(...xs) - Math.min(...xs)) / width,
                                         (Math.max(...ys) - Math.min(...ys)) / height));
      const thick = Math.max(Math.round(base * ratio), 2);
      ctx.lineCap = "round";
      drawGraph(ctx, kp, sk.limbs, rgb, visible, Math.max(Math.round(thick * 0.75), 1),
                Math.max(Math.floor(thick / 2), 1));
      drawParts(ctx, person);
      const id = person.person_id && person.person_id[0];
      if (id !== undefined && id >= 0) {  // a tracked identity
        ctx.font = `${Math.max(12, Math.round(base * 1.5))}px sans-serif`;
        ctx.fillStyle = "#fff";
        ctx.strokeStyle = "#000";
        ctx.lineWidth = 3;
        ctx.strokeText(`#${id}`, Math.min(...xs), Math.max(Math.min(...ys) - 6, 12));
        ctx.fillText(`#${id}`, Math.min(...xs), Math.max(Math.min(...ys) - 6, 12));
      }
      state.drawn += 1;
    }
  }

  function showStats(peopleCount) {
    document.getElementById("fps").textContent = `${state.fps.toFixed(1)} FPS`;
    document.getElementById("latency").textContent = `${Math.round(state.latencyMs)} ms`;
    document.getElementById("count").textContent = `${peopleCount} ${peopleCount === 1 ? "person" : "people"}`;
  }

  function onAnswer(event) {
    inFlight = false;
    const now = performance.now();
    const msg = JSON.parse(event.data);
    state.latencyMs = now - sentAt;
    if (lastAnswer) {
      const rate = 1000 / Math.max(now - lastAnswer, 1);
      state.fps = state.fps ? 0.9 * state.fps + 0.1 * rate : rate;
    }
    lastAnswer = now;
    if (msg.error) {
      state.errors += 1;
      state.lastError = msg;
      setStatus(`frame ${msg.frame}: ${msg.status} ${msg.error}`, true);
    } else {
      state.frames += 1;
      state.people = msg.people;
      state.frameSize = [msg.width, msg.height];
      overlay.width = msg.width;
      overlay.height = msg.height;
      drawPeople(overlay.getContext("2d"), msg.people, msg.width, msg.height);
      setStatus(`frame ${msg.frame}: server ${msg.timing.server_ms} ms (network ${msg.timing.infer_ms} ms, ` +
                `batch of ${msg.timing.batch_size})`);
    }
    showStats(state.people.length);
    sendFrame();
  }

  function sendFrame() {
    // one frame in flight: the next is grabbed when the answer arrives, so latency never builds up
    if (inFlight || !socket || socket.readyState !== WebSocket.OPEN || !video.videoWidth) return;
    const scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
    grab.width = Math.round(video.videoWidth * scale);
    grab.height = Math.round(video.videoHeight * scale);
    grab.getContext("2d").drawImage(video, 0, 0, grab.width, grab.height);
    inFlight = true;
    grab.toBlob((blob) => {
      if (!blob || !socket || socket.readyState !== WebSocket.OPEN) { inFlight = false; return; }
      sentAt = performance.now();
      socket.send(blob);
    }, "image/jpeg", 0.8);
  }

  async function start() {
    button.disabled = true;
    try {
      if (!state.skeleton) await loadSkeleton();
      document.getElementById("stage").classList.remove("picture");
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
      video.srcObject = stream;
      await video.play();
      const url = new URL(withToken("v1/stream"), location.href);
      url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
      socket = new WebSocket(url);
      socket.binaryType = "arraybuffer";
      socket.onopen = () => { setStatus("streaming"); sendFrame(); };
      socket.onmessage = onAnswer;
      socket.onclose = (e) => { if (stream) setStatus(`stream closed (${e.code}${e.reason ? ": " + e.reason : ""})`, true); };
      button.textContent = "Stop camera";
    } catch (err) {
      setStatus(`cannot start: ${err.message || err}`, true);
      stop();
    } finally {
      button.disabled = false;
    }
  }

  function stop() {
    if (socket) { socket.onclose = null; socket.close(); socket = null; }
    if (stream) { stream.getTracks().forEach((t) => t.stop()); stream = null; }
    inFlight = false;
    button.textContent = "Start camera";
  }

  async function postPicture(file) {
    try {
      if (!state.skeleton) await loadSkeleton();
      stop();
      const reply = await fetch(withToken("v1/pose"), { method: "POST", body: file,
                                                          headers: { "Content-Type": file.type || "application/octet-stream" } });
      const body = await reply.json();
      if (!reply.ok) { setStatus(`${file.name}: ${reply.status} ${body.error}`, true); return; }
      const bitmap = await createImageBitmap(file);
      video.srcObject = null;
      document.getElementById("stage").classList.add("picture");
      overlay.width = bitmap.width;
      overlay.height = bitmap.height;
      const ctx = overlay.getContext("2d");
      state.people = body.people;
      state.frameSize = [bitmap.width, bitmap.height];
      ctx.drawImage(bitmap, 0, 0);
      drawPeople(ctx, body.people, bitmap.width, bitmap.height, false);
      showStats(body.people.length);
      setStatus(`${file.name}: ${body.people.length} people`);
    } catch (err) {
      setStatus(`${file.name}: ${err.message || err}`, true);
    }
  }

  button.addEventListener("click", () => (socket ? stop() : start()));
  const drop = document.getElementById("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("dragging"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("dragging"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("dragging");
    const file = e.dataTransfer.files[0];
    if (file) postPicture(file);
  });
  window.openposePyStart = start;
  window.openposePyPost = postPicture;
})();
