import torch

from course_utils import checkpoints, data, models


def test_shapes_and_sizes():
    t, s = models.make_teacher(), models.make_student()
    x = torch.randn(5, 3, 32, 32)
    assert t(x).shape == (5, 10) and s(x).shape == (5, 10)
    assert 1.9e6 < models.count_params(t) < 2.1e6
    ratio = models.flops_per_image(t) / models.flops_per_image(s)
    assert 7 <= ratio <= 10, ratio


def test_flops_match_a_hand_count_for_one_conv():
    conv = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1, bias=False))
    assert models.flops_per_image(conv) == 2 * 3 * 8 * 9 * 32 * 32  # 2 FLOPs per multiply-add


def test_layer_table_adds_up():
    t = models.make_teacher()
    rows = models.layer_table(t)
    assert sum(r["params"] for r in rows) == models.count_params(t)
    assert abs(sum(r["flops"] for r in rows) - models.flops_per_image(t)) <= 0.01 * models.flops_per_image(t)


def test_arch_round_trip():
    s = models.make_student()
    assert checkpoints.from_arch(checkpoints.arch(s)).cfg == s.cfg


def test_whitening_decorrelates_patches():
    g = torch.Generator().manual_seed(0)
    base = torch.randint(0, 256, (200, 1, 32, 32), generator=g)
    images = torch.cat([base, base // 2 + 60, 255 - base], 1).to(torch.uint8)  # strongly correlated channels
    m = models.make_student()
    assert not m.is_whitened()
    models.init_whitening(m, images)
    assert m.is_whitened()
    out = torch.nn.functional.conv2d(data.normalize(images), m.whiten.weight[:12])  # (N, 12, 31, 31)
    feats = out.permute(0, 2, 3, 1).reshape(-1, 12).double()
    cov = torch.cov(feats.T)
    big = torch.diag(cov) > 0.5  # directions with real variance come out with unit variance, uncorrelated
    assert torch.allclose(torch.diag(cov)[big], torch.ones(int(big.sum()), dtype=torch.double), atol=0.05)
    off = cov[big][:, big] - torch.diag(torch.diag(cov)[big])
    assert off.abs().max() < 0.05


def test_layer_table_names_the_models_own_layers_in_forward_order():
    rows = models.layer_table(models.make_student())
    assert [r["layer"] for r in rows] == ["whiten"] + [f"blocks.{i}" for i in range(6)] + ["head"]
    assert rows[0]["output"] == (24, 31, 31) and rows[-1]["output"] == (10,)


def test_make_net_whitens_from_a_spread_of_a_class_sorted_set():
    # 10 classes, each a different mix of the colour channels, stored class by class (as a subset can be):
    # the whitening must see every class, so the result matches whitening on a shuffled copy
    g = torch.Generator().manual_seed(0)
    base = torch.randint(0, 200, (10, 500, 1, 32, 32), generator=g)
    mix = torch.linspace(0, 1, 10).view(10, 1, 1, 1, 1)
    images = torch.cat([base, (base * mix).long(), (base * (1 - mix)).long()], 2).flatten(0, 1).to(torch.uint8)
    shuffled = images[torch.randperm(len(images), generator=g)]

    def patch_cov(net):
        out = torch.nn.functional.conv2d(data.normalize(shuffled[:500]), net.whiten.weight[:12])
        return torch.cov(out.permute(0, 2, 3, 1).reshape(-1, 12).double().T)

    sorted_net, shuffled_net = models.make_student(whiten_with=images), models.make_student(whiten_with=shuffled)
    assert torch.allclose(torch.linalg.eigvalsh(patch_cov(sorted_net)), torch.linalg.eigvalsh(patch_cov(shuffled_net)),
                          atol=0.1)


def test_the_pages_layer_rows_and_size_comparison_read_the_layer_table():
    t, s = models.make_teacher(), models.make_student()
    rows, table = models.layer_rows(t), models.layer_table(t)
    assert [r["layer"] for r in rows] == [r["layer"] for r in table] and rows[0]["output"] == "(24, 31, 31)"
    assert [r["mflops"] * 1e6 for r in rows] == [r["flops"] for r in table]
    lines = models.size_comparison(t, s).splitlines()
    assert lines[0] == f"teacher widths (64, 256, 256): {models.count_params(t):,d} parameters, " \
                       f"{models.flops_per_image(t) / 1e6:.1f} MFLOPs per image"
    ratio = models.flops_per_image(t) / models.flops_per_image(s)
    assert lines[2].startswith(f"the student needs {ratio:.1f}x fewer FLOPs per image")
