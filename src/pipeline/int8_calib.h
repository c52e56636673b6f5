// SPDX-License-Identifier: MIT
// int8 activation scales of the pinned P-Net and MobileFaceNet, written by
// `facehatch calibrate-int8 --write` (cli/cmd_quantize.c). Do not edit by hand.
#ifndef FH_INT8_CALIB_H
#define FH_INT8_CALIB_H

#include "nn/nn.h"

#define FH_INT8_CALIB_SOURCE "LFW View 1 train (pairsDevTrain.txt): 200 images, 245 faces; embedder clip x1.00"
#define FH_INT8_PNET_N 4
static const struct nn_qscale fh_int8_pnet[] = {
    {"pnet/input", 0.00783942826f},
    {"pnet/pool1", 0.0927853584f},
    {"pnet/PReLU2/add", 0.0893154889f},
    {"pnet/PReLU3/add", 0.100576133f},
};
#define FH_INT8_MFN_N 35
static const struct nn_qscale fh_int8_mfn[] = {
    {"input", 0.00783942826f},
    {"MobileFaceNet/MobileFaceNet/SeparableConv2d/add", 0.573277473f},
    {"MobileFaceNet/MobileFaceNet/Conv/BatchNorm/FusedBatchNorm", 0.295693636f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_2_InvResBlock_0/SeparableConv2d/add", 0.249880418f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_2_InvResBlock_0/Conv_1/BatchNorm/FusedBatchNorm", 0.314474642f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_2_InvResBlock_1/SeparableConv2d/add", 0.187568024f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_2_InvResBlock_1/Add", 0.330256552f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_2_InvResBlock_2/SeparableConv2d/add", 0.198816493f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_2_InvResBlock_2/Add", 0.326824963f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_2_InvResBlock_3/SeparableConv2d/add", 0.280289769f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_2_InvResBlock_3/Add", 0.365256608f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_2_InvResBlock_4/SeparableConv2d/add", 0.239913955f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_2_InvResBlock_4/Add", 0.418236166f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_3_InvResBlock_0/SeparableConv2d/add", 0.287157446f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_3_InvResBlock_0/Conv_1/BatchNorm/FusedBatchNorm", 0.227879331f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_4_InvResBlock_0/SeparableConv2d/add", 0.193378136f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_4_InvResBlock_0/Add", 0.228878975f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_4_InvResBlock_1/SeparableConv2d/add", 0.225181714f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_4_InvResBlock_1/Add", 0.230507389f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_4_InvResBlock_2/SeparableConv2d/add", 0.224274233f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_4_InvResBlock_2/Add", 0.236541331f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_4_InvResBlock_3/SeparableConv2d/add", 0.300175488f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_4_InvResBlock_3/Add", 0.26445052f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_4_InvResBlock_4/SeparableConv2d/add", 0.241652578f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_4_InvResBlock_4/Add", 0.299302399f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_4_InvResBlock_5/SeparableConv2d/add", 0.233313128f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_4_InvResBlock_5/Add", 0.353730738f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_5_InvResBlock_0/SeparableConv2d/add", 0.224258661f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_5_InvResBlock_0/Conv_1/BatchNorm/FusedBatchNorm", 0.222018227f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_6_InvResBlock_0/SeparableConv2d/add", 0.142764494f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_6_InvResBlock_0/Add", 0.224842191f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_6_InvResBlock_1/SeparableConv2d/add", 0.150433555f},
    {"MobileFaceNet/MobileFaceNet/Conv2d_6_InvResBlock_1/Add", 0.23565726f},
    {"MobileFaceNet/Logits/SeparableConv2d/BatchNorm/FusedBatchNorm", 0.135622248f},
    {"MobileFaceNet/Logits/Conv/BatchNorm/FusedBatchNorm", 0.0855368376f},
};

#endif
