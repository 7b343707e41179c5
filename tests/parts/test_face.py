import numpy as np

from openpose_py.parts import FACE_FROM_MESH


def test_face_table_is_68_distinct_mesh_vertices():
    assert len(FACE_FROM_MESH) == 68 and len(set(FACE_FROM_MESH)) == 68
    assert all(0 <= i < 468 for i in FACE_FROM_MESH)


def test_face_table_matches_coco_wholebody_ground_truth(parts_estimator, wholebody):
    """The mapped 68 points land on COCO-WholeBody's own 68 face points: for every frontal face the mean error is a
    small fraction of the face box, smaller than against the labels with the jaw reversed (a mirrored table), and
    each pupil lies between its own eye's corners."""
    annotations, images = wholebody
    errors, swapped = [], []
    for ann in annotations:
        if not ann["face_valid"]:
            continue
        gt = np.asarray(ann["face_kpts"], float).reshape(68, 3)
        found = parts_estimator.faces_in_boxes(images[ann["image_id"]], [ann["face_box"]])[0]
        side = np.sqrt(ann["face_box"][2] * ann["face_box"][3])
        if abs(gt[45, 0] - gt[36, 0]) < 0.4 * side:
            continue  # a profile view (one photo has one): not what the table is tested on
        assert np.isfinite(found).all()
        errors.append(np.linalg.norm(found[:68, :2] - gt[:, :2], axis=1).mean() / side)
        mirrored = gt[[16 - i for i in range(17)] + list(range(17, 68))]  # jaw reversed: a left/right mix-up
        swapped.append(np.linalg.norm(found[:17, :2] - mirrored[:17, :2], axis=1).mean() / side)
        pupils = found[68:, :2]
        assert np.all(np.isfinite(pupils))
        # the right pupil lies between the right eye's corners, the left between the left eye's
        for pupil, (a, b) in zip(pupils, ((36, 39), (42, 45))):
            assert min(gt[a, 0], gt[b, 0]) - 2 <= pupil[0] <= max(gt[a, 0], gt[b, 0]) + 2
    assert len(errors) == 3
    assert max(errors) < 0.1
    assert all(e < s for e, s in zip(errors, swapped))
