# Reference values for tests/runtime/test_conv.c and test_pool.c, computed
# with PyTorch 1.13 (Debian python3-torch) in double: /usr/bin/python3 tests/runtime/conv_pool_torch.py
import torch, torch.nn.functional as F
torch.set_default_dtype(torch.float64)
def gen(n, a, m, s):  # value i = ((i*a) % m - s) / s, as the tests make them
    return torch.tensor([((i * a) % m - s) / s for i in range(n)])
def same_pads(inp, k, s, d):
    out = -(-inp // s); tot = max((out - 1) * s + (k - 1) * d + 1 - inp, 0)
    return tot // 2, tot - tot // 2
def conv(N,H,W,C,KH,KW,O,SH,SW,DH,DW,same):
    x = gen(N*H*W*C, 7, 11, 5).reshape(N,H,W,C)
    w = gen(KH*KW*C*O, 5, 13, 6).reshape(KH,KW,C,O)
    b = gen(O, 3, 7, 3)
    xt = x.permute(0,3,1,2); wt = w.permute(3,2,0,1)
    if same:
        t,bo = same_pads(H,KH,SH,DH); l,r = same_pads(W,KW,SW,DW)
        xt = F.pad(xt, (l,r,t,bo))
    y = F.conv2d(xt, wt, b, stride=(SH,SW), dilation=(DH,DW)).permute(0,2,3,1)
    return y
for args in [(2,5,6,3,4,4,2,2,2,1,1,True), (1,7,5,1,3,3,2,1,1,2,2,True), (3,6,7,2,3,2,3,2,1,1,2,False)]:
    y = conv(*args).reshape(-1)
    idx = [0, 1, len(y)//3, len(y)//2, len(y)-1]
    print(args, len(y), [(i, '%.9f' % y[i].item()) for i in idx])
def pool(N,H,W,C,PH,PW,SH,SW,same,kind):
    x = gen(N*H*W*C, 7, 11, 5).reshape(N,H,W,C).permute(0,3,1,2)
    if same:
        t,bo = same_pads(H,PH,SH,1); l,r = same_pads(W,PW,SW,1)
    else: t=bo=l=r=0
    if kind == 'max':
        y = F.max_pool2d(F.pad(x,(l,r,t,bo),value=float('-inf')), (PH,PW), (SH,SW))
    else:  # sum of the zero-padded input / count of real cells (count_include_pad=False)
        s = F.avg_pool2d(F.pad(x,(l,r,t,bo)), (PH,PW), (SH,SW)) * (PH*PW)
        n = F.avg_pool2d(F.pad(torch.ones_like(x),(l,r,t,bo)), (PH,PW), (SH,SW)) * (PH*PW)
        y = s / n
        if not same:
            y2 = F.avg_pool2d(x, (PH,PW), (SH,SW), count_include_pad=False); assert torch.allclose(y, y2)
    y = y.permute(0,2,3,1).reshape(-1)
    idx = [0, 1, len(y)//3, len(y)//2, len(y)-1]
    print(kind, (N,H,W,C,PH,PW,SH,SW,same), len(y), [(i, '%.9f' % y[i].item()) for i in idx])
pool(2,5,5,2,2,2,2,2,True,'max'); pool(2,5,5,2,2,2,2,2,True,'avg')
pool(1,7,6,3,3,3,2,2,True,'max'); pool(1,7,6,3,3,3,2,2,True,'avg')
pool(2,6,5,2,2,2,2,2,False,'avg')
# symmetric-pad check of the avg path against torch's own count_include_pad=False
x = gen(1*7*6*3,7,11,5).reshape(1,7,6,3).permute(0,3,1,2)
print('avg 3x3 s1 same (torch padding=1, count_include_pad=False):', '%.9f' % F.avg_pool2d(x,3,1,padding=1,count_include_pad=False).permute(0,2,3,1).reshape(-1)[0].item())
