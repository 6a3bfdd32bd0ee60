"""Exercise checkers of notebooks 02 and 03 accept the right answer and explain a wrong one."""
import torch

from course_utils import checks, losses


def test_checks_02(capsys):
    cm = torch.zeros(10, 10, dtype=torch.long)
    cm[3, 5], cm[5, 3], cm[1, 9] = 20, 15, 30
    assert checks.most_confused_pair(("cat", "dog"), cm)
    assert not checks.most_confused_pair(("automobile", "truck"), cm)
    assert "another pair has 35" in capsys.readouterr().out
    assert not checks.most_confused_pair(("cat", "wolf"), cm)
    probs = torch.tensor([[0.9, 0.1], [0.8, 0.2]])
    assert checks.calibration(0.85, "over", probs, 0.5)
    assert not checks.calibration(0.85, "under", probs, 0.5)
    assert checks.calibration(0.85, "calibrated", probs, 0.84)
    assert not checks.calibration(0.7, "over", probs, 0.5)
    assert not checks.calibration(85, "over", probs, 0.5)  # a percentage: told to give a probability



def test_checks_03(capsys):
    z_s, z_t = torch.tensor([[2.0, 1.0, 0.0]], dtype=torch.float64), torch.tensor([[3.0, 0.5, 0.0]], dtype=torch.float64)
    right = losses.soft_loss(z_s, z_t, T=2.0).item()
    assert checks.soft_term_by_hand(right)
    assert not checks.soft_term_by_hand(right / 4)
    assert "multiply by T^2" in capsys.readouterr().out
    assert checks.structure_or_softness("b")
    assert not checks.structure_or_softness("a")
    assert "softness, structure and its knowledge" in capsys.readouterr().out
    assert not checks.structure_or_softness(None) and not checks.structure_or_softness("e")
    capsys.readouterr()
    assert not checks.soft_term_by_hand(round(right, 2))  # too few decimals: told so
    assert "give at least 4 decimals" in capsys.readouterr().out
    p_t, log_p_s = torch.softmax(z_t / 2, -1), torch.log_softmax(z_s / 2, -1)
    assert not checks.soft_term_by_hand(-4 * (p_t * log_p_s).sum().item())  # cross-entropy, not KL
    assert "not the KL" in capsys.readouterr().out


def test_checks_06(capsys):
    from course_utils import lm

    def right(z_s, z_t, targets):
        keep = targets != lm.IGNORE
        log_p_s, log_p_t = z_s[keep].log_softmax(-1), z_t[keep].log_softmax(-1)
        return (log_p_t.exp() * (log_p_t - log_p_s)).sum(-1).mean()

    def unmasked(z_s, z_t, targets):
        log_p_s, log_p_t = z_s.log_softmax(-1), z_t.log_softmax(-1)
        return (log_p_t.exp() * (log_p_t - log_p_s)).sum(-1).mean()

    assert checks.token_kl_by_hand(right)
    assert not checks.token_kl_by_hand(unmasked)
    assert "padding included" in capsys.readouterr().out
    assert not checks.token_kl_by_hand(lambda *a: None)
    assert not checks.token_kl_by_hand(lambda z_s, z_t, y: torch.zeros(3))
    assert not checks.token_kl_by_hand(None)
    assert checks.quirk_evidence("b")
    assert not checks.quirk_evidence("a") and not checks.quirk_evidence("e") and not checks.quirk_evidence(None)
    assert "transcripts" in capsys.readouterr().out
