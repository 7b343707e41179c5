"""The page at ``/`` in a real headless Chromium whose fake camera plays the selfie clip: skeletons are drawn.

The fake camera reads a Y4M file (a text header, then per frame ``FRAME`` and the I420 planes) written here from
../shared/data/videos/selfie_upper_body.mp4. The screenshot is kept in the test's tmp dir as an artefact.
"""

from __future__ import annotations

import base64
import shutil
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from .conftest import PHOTOS, Server, httpx, selfie_frames

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path(shutil.which("chromedriver") or "/usr/bin/chromedriver")

pytestmark = pytest.mark.skipif(not CHROMIUM.is_file() or not CHROMEDRIVER.is_file(),
                                reason="Debian's chromium and chromium-driver are not installed "
                                       "(.ci/run installs them)")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium (dev extra) is not installed")


def write_y4m(path: Path, frames: list[np.ndarray], fps: int = 15) -> Path:
    height, width = frames[0].shape[:2]
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            out.write(b"FRAME\n")
            out.write(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())  # Y, then U, then V planes
    return path


@pytest.fixture
def browser(tmp_path: Path):
    clip = write_y4m(tmp_path / "selfie.y4m", selfie_frames(30))
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                 f"--use-file-for-fake-video-capture={clip}", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--window-size=900,700",
                 f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=str(CHROMEDRIVER), log_output=str(tmp_path / "driver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()


def _wait_for(driver, script: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.2)
    state = driver.execute_script("return JSON.stringify(window.openposePy)")
    status = driver.execute_script("return document.getElementById('status').textContent")
    pytest.fail(f"timed out waiting for `{script}`; page status: {status!r}; state: {state}")


def test_page_draws_the_camera_person_and_a_dropped_picture(server: Server, browser, tmp_path: Path) -> None:
    browser.get(f"{server.url}/?token={server.token}")
    browser.execute_script("window.openposePyStart()")
    _wait_for(browser, "const s = window.openposePy; return s.frames >= 3 && s.drawn > 0;")
    people = browser.execute_script("return window.openposePy.people")
    assert len(people) >= 1
    keypoints = np.asarray(people[0]["pose_keypoints_2d"]).reshape(-1, 3)
    assert (keypoints[:, 2] > 0.05).sum() >= 5  # an upper body: head, neck, shoulders...
    # the overlay canvas holds skeleton pixels in the skeleton's colours
    coloured = browser.execute_script("""
        const c = document.getElementById('overlay');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
        return n;""")
    assert coloured > 200
    fps, latency = browser.execute_script("return [window.openposePy.fps, window.openposePy.latencyMs]")
    assert fps > 0 and latency > 0
    assert "FPS" in browser.find_element("id", "fps").text and "ms" in browser.find_element("id", "latency").text
    shot = tmp_path / "page_stream.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 0

    # dropping a picture POSTs it; the page then holds the same people as /v1/pose answers
    photo = PHOTOS[0]
    browser.execute_script("""
        const bytes = Uint8Array.from(atob(arguments[0]), (ch) => ch.charCodeAt(0));
        window.openposePy.people = null;
        window.openposePyPost(new File([bytes], arguments[1], {type: 'image/jpeg'}));""",
                           base64.b64encode(photo.read_bytes()).decode(), photo.name)
    dropped = _wait_for(browser, "return window.openposePy.people && window.openposePy.frameSize[0] === 640 "
                                 "&& window.openposePy.people")
    expected = httpx.post(server.url + "/v1/pose", content=photo.read_bytes(), headers=server.auth).json()["people"]
    assert dropped == expected
    browser.save_screenshot(str(tmp_path / "page_dropped.png"))
