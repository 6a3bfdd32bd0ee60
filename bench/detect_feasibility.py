"""Notebook 05 feasibility (not a notebook yet): can label-only probes tell copies from independent models when
every model is a quick-profile CPU student? 8 suspects (2 soft copies, 2 label copies, 4 trained on true labels)
and the lab's own 2 surrogates + 2 references, each trained with blackbox_study.train_copy on 2,000 training
images; 200 balanced test images probe them: error consistency (Cohen's kappa on right/wrong with the teacher,
Geirhos et al. 2020), PGD examples crafted on the teacher (eps 8/255, 10 steps), and conferrable-style examples
(Lukas et al. 2021: raise the teacher's and the surrogates' probability of the teacher's adversarial label,
lower the references'; 20 steps). Prints one line per model; the run of 2026-11-30 is in
results/cpu/detect_feasibility_quick.log. Usage: python bench/detect_feasibility.py [images per model]"""
import argparse
import time

import torch
from course_utils import blackbox_study, checkpoints, copier, data, models, train

parser = argparse.ArgumentParser(description=__doc__.split(chr(10))[0])
parser.add_argument('images', nargs='?', type=int, default=2000, help='training images per model (default 2000)')
N = parser.parse_args().images
torch.set_num_threads(2)
t0=time.time()
dev=torch.device('cpu')
cifar = data.load_cifar10(dev)
teacher, _ = checkpoints.load_teacher(dev, verbose=False)
bb = blackbox_study.get_study("quick")
g=torch.Generator().manual_seed(0)
perm=torch.randperm(len(cifar.train_labels), generator=g)
pools=[perm[i*N:(i+1)*N] for i in range(6)]
probe_idx = data.balanced_indices(cifar.test_labels, 20, seed=1)  # 200 probe images
px, py = cifar.test_images[probe_idx], cifar.test_labels[probe_idx]
print('data', time.time()-t0)
t=time.time()
tlog = {}
def teacher_logits(idx):
    return train.predict(teacher, cifar.train_images[idx])
T_logits = [teacher_logits(p) for p in pools[:3]]
print('teacher preds', time.time()-t)
def make(kind, seed, pool, widths=models.STUDENT_WIDTHS):
    x = cifar.train_images[pools[pool]]
    if kind=='independent': y = cifar.train_labels[pools[pool]]
    elif kind=='label_copy': y = T_logits[pool].argmax(1)
    elif kind=='soft_copy': y = copier.to_targets(T_logits[pool], 'logits', T=bb.T)
    t=time.time(); m,_ = blackbox_study.train_copy(x, y, seed, bb, widths=widths); 
    return m, time.time()-t
suspects = [('soft_copy',0,0),('soft_copy',1,1),('label_copy',0,0),('label_copy',1,1),
            ('independent',0,0),('independent',1,1),('independent',2,3),('independent',3,4)]
lab = [('soft_copy',10,2),('soft_copy',11,2),('independent',10,3),('independent',11,4)]
models_s={}
for s in suspects+lab:
    m,dt=make(*s); models_s[s]=m; print(s, round(dt,1), 'acc', round(train.evaluate(m, cifar.test_images[:1000], cifar.test_labels[:1000]),3))
print('trained', time.time()-t0)
mean = torch.tensor(data.MEAN).view(1,3,1,1); std=torch.tensor(data.STD).view(1,3,1,1)
def logits01(m, x01): m.eval(); return m((x01-mean)/std).float()
def pgd(loss_fn, x_u8, eps=8/255, steps=10, step=2/255):
    x0 = x_u8.float()/255; x = x0.clone()
    for _ in range(steps):
        x.requires_grad_(True)
        loss = loss_fn(x)
        g, = torch.autograd.grad(loss, x)
        x = (x.detach() + step*g.sign()).clamp(x0-eps, x0+eps).clamp(0,1)
    return (x*255).round().to(torch.uint8)
t=time.time()
tp = train.predict(teacher, px).argmax(1)
# adversarial on teacher, untargeted
adv = pgd(lambda x: torch.nn.functional.cross_entropy(logits01(teacher,x), py), px)
t_adv = train.predict(teacher, adv).argmax(1)
print('teacher fooled', (t_adv!=py).float().mean().item(), 'pgd s', time.time()-t)
# conferrable: target = teacher adv label; maximize surrogates+teacher prob of target, minimize references
surr=[models_s[s] for s in lab if s[0]!='independent']; refs=[models_s[s] for s in lab if s[0]=='independent']
def conf_loss(x):
    tgt=t_adv
    lt = -torch.nn.functional.cross_entropy(logits01(teacher,x), tgt)
    ls = sum(-torch.nn.functional.cross_entropy(logits01(m,x), tgt) for m in surr)/len(surr)
    lr = sum(-torch.nn.functional.cross_entropy(logits01(m,x), tgt) for m in refs)/len(refs)
    return lt + ls - lr
t=time.time(); conf = pgd(conf_loss, px, steps=20); print('conf s', time.time()-t)
t_conf = train.predict(teacher, conf).argmax(1)
def kappa(a_right, b_right):
    a=a_right.float(); b=b_right.float()
    obs=(a==b).float().mean(); pa, pb=a.mean(), b.mean()
    exp=pa*pb+(1-pa)*(1-pb); return ((obs-exp)/(1-exp)).item()
for s in suspects+lab:
    m=models_s[s]
    p=train.predict(m, px).argmax(1); pa=train.predict(m, adv).argmax(1); pc=train.predict(m, conf).argmax(1)
    print(s, 'kappa %.3f'%kappa(p==py, tp==py), 'agree %.2f'%(p==tp).float().mean().item(), 'adv-match %.3f'%(pa==t_adv).float().mean().item(), 'conf-match %.3f'%(pc==t_conf).float().mean().item())
print('total', time.time()-t0)
