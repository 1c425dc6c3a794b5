/**
 * Public figures describing the real Expresso Churn Train.csv (2,154,048 rows), vendored so the
 * generator and its tests need nothing outside the repository.
 *
 * Provenance: desk research over public GitHub notebooks with stored outputs (feeeper/zindi-expresso-
 * churn-prediction-challenge, panashe-dot/EXPRESSO_CHURN, hossammedhat81/Expresso-Churn-Prediction-System,
 * alimuratov, Fareen24), compiled outside this repository; every figure used is copied here. Full-data figures:
 * row count, churn rate, missing shares, count/mean/std/min/quartiles/max, category counts and per-category
 * churn (REGION, TENURE), the fully-inactive table. p05/p95/zero shares and the sample maxima come from a
 * single 20,000-row random sample (the only higher quantiles published). TOP_PACK shares for ranks 15–40
 * come from the half-size re-release (1,077,024 rows), rescaled to non-missing rows; the order and shares
 * of the remaining 100 packs are unknown (we use a geometric tail that ends near one row in the full file).
 */
import type { NumericFeature } from './customer-schema.js';

export const EXPRESSO_ROWS = 2_154_048;
export const EXPRESSO_CHURN_RATE = 0.1875473527;

/** A numeric column's non-missing distribution: full-data quartiles, sample p05/p95/max, full max. */
export interface NumericProfile {
  readonly missingShare: number;
  readonly min: number;
  readonly p05: number;
  readonly q25: number;
  readonly q50: number;
  readonly q75: number;
  readonly p95: number;
  /** Largest value in the 20k-row sample, and how many non-missing values that sample held. */
  readonly sampleMax: number;
  readonly sampleCount: number;
  readonly max: number;
  readonly mean: number;
  /** Share of exact zeros among non-missing values (20k sample). */
  readonly zeroShare: number;
}

export const NUMERIC_PROFILE: Readonly<Record<NumericFeature, NumericProfile>> = {
  MONTANT: {
    missingShare: 0.35131,
    min: 10,
    p05: 250,
    q25: 1000,
    q50: 3000,
    q75: 7350,
    p95: 18500,
    sampleMax: 122000,
    sampleCount: 13045,
    max: 470000,
    mean: 5532.12,
    zeroShare: 0,
  },
  FREQUENCE_RECH: {
    missingShare: 0.35131,
    min: 1,
    p05: 1,
    q25: 2,
    q50: 7,
    q75: 16,
    p95: 40,
    sampleMax: 101,
    sampleCount: 13045,
    max: 133,
    mean: 11.53,
    zeroShare: 0,
  },
  REVENUE: {
    missingShare: 0.337062,
    min: 1,
    p05: 200,
    q25: 1000,
    q50: 3000,
    q75: 7368,
    p95: 18627,
    sampleMax: 121998,
    sampleCount: 13317,
    max: 532177,
    mean: 5510.81,
    zeroShare: 0,
  },
  ARPU_SEGMENT: {
    missingShare: 0.337062,
    min: 0,
    p05: 67,
    q25: 333,
    q50: 1000,
    q75: 2456,
    p95: 6209,
    sampleMax: 40666,
    sampleCount: 13317,
    max: 177392,
    mean: 1836.94,
    zeroShare: 0.0032,
  },
  FREQUENCE: {
    missingShare: 0.337062,
    min: 1,
    p05: 1,
    q25: 3,
    q50: 9,
    q75: 20,
    p95: 45,
    sampleMax: 91,
    sampleCount: 13317,
    max: 91,
    mean: 13.98,
    zeroShare: 0,
  },
  DATA_VOLUME: {
    missingShare: 0.492298,
    min: 0,
    p05: 0,
    q25: 0,
    q50: 257,
    q75: 2895,
    p95: 15637,
    sampleMax: 357621,
    sampleCount: 10198,
    max: 1823866,
    mean: 3366.45,
    zeroShare: 0.2807,
  },
  ON_NET: {
    missingShare: 0.365208,
    min: 0,
    p05: 0,
    q25: 5,
    q50: 27,
    q75: 156,
    p95: 1342,
    sampleMax: 16502,
    sampleCount: 12770,
    max: 50809,
    mean: 277.69,
    zeroShare: 0.0731,
  },
  ORANGE: {
    missingShare: 0.415612,
    min: 0,
    p05: 1,
    q25: 7,
    q50: 29,
    q75: 99,
    p95: 396,
    sampleMax: 6429,
    sampleCount: 11799,
    max: 21323,
    mean: 95.42,
    zeroShare: 0.0438,
  },
  TIGO: {
    missingShare: 0.59888,
    min: 0,
    p05: 0,
    q25: 2,
    q50: 6,
    q75: 20,
    p95: 91,
    sampleMax: 1526,
    sampleCount: 8016,
    max: 4174,
    mean: 23.11,
    zeroShare: 0.102,
  },
  ZONE1: {
    missingShare: 0.921208,
    min: 0,
    p05: 0,
    q25: 0,
    q50: 1,
    q75: 3,
    p95: 35,
    sampleMax: 865,
    sampleCount: 1607,
    max: 4792,
    mean: 8.17,
    zeroShare: 0.3591,
  },
  ZONE2: {
    missingShare: 0.936481,
    min: 0,
    p05: 0,
    q25: 0,
    q50: 2,
    q75: 5,
    p95: 27,
    sampleMax: 639,
    sampleCount: 1268,
    max: 3697,
    mean: 7.55,
    zeroShare: 0.2879,
  },
  REGULARITY: {
    missingShare: 0,
    min: 1,
    p05: 1,
    q25: 6,
    q50: 24,
    q75: 51,
    p95: 62,
    sampleMax: 62,
    sampleCount: 20000,
    max: 62,
    mean: 28.04,
    zeroShare: 0,
  },
  FREQ_TOP_PACK: {
    missingShare: 0.419022,
    min: 1,
    p05: 1,
    q25: 2,
    q50: 5,
    q75: 12,
    p95: 33,
    sampleMax: 206,
    sampleCount: 11691,
    max: 713,
    mean: 9.27,
    zeroShare: 0,
  },
};

/** REGULARITY shares of all rows for the values the 20k sample printed (spikes at 1 and 62). */
export const REGULARITY_TOP_SHARES: Readonly<Record<number, number>> = {
  1: 0.088,
  2: 0.054,
  3: 0.038,
  4: 0.032,
  5: 0.025,
  6: 0.024,
  7: 0.021,
  58: 0.017,
  59: 0.018,
  60: 0.022,
  61: 0.03,
  62: 0.077,
};

/** REGION: share among non-missing rows and churn rate when present (full data); missing share 0.39428. */
export const REGION_MISSING_SHARE = 0.39428;
export const REGION_CHURN_IF_MISSING = 0.447987;
export const REGION_CHURN_IF_PRESENT = 0.01802;
export const REGIONS: readonly (readonly [name: string, share: number, churnRate: number])[] = [
  ['DAKAR', 0.393387, 0.019235],
  ['THIES', 0.137997, 0.016301],
  ['SAINT-LOUIS', 0.091884, 0.012679],
  ['LOUGA', 0.075917, 0.015951],
  ['KAOLACK', 0.074333, 0.023436],
  ['DIOURBEL', 0.051283, 0.028097],
  ['TAMBACOUNDA', 0.04221, 0.015361],
  ['KAFFRINE', 0.033695, 0.007188],
  ['KOLDA', 0.029694, 0.010763],
  ['FATICK', 0.027318, 0.014196],
  ['MATAM', 0.02229, 0.02008],
  ['ZIGUINCHOR', 0.016819, 0.027432],
  ['SEDHIOU', 0.00239, 0.043604],
  ['KEDOUGOU', 0.000782, 0.042157],
];

/** TENURE: share of all rows and churn rate (full data); never missing. */
export const TENURES: readonly (readonly [name: string, share: number, churnRate: number])[] = [
  ['K > 24 month', 0.94854, 0.183236],
  ['I 18-21 month', 0.02102, 0.272693],
  ['H 15-18 month', 0.012073, 0.266246],
  ['G 12-15 month', 0.006918, 0.316287],
  ['J 21-24 month', 0.005907, 0.230884],
  ['F 9-12 month', 0.00433, 0.240137],
  ['E 6-9 month', 0.000854, 0.171833],
  ['D 3-6 month', 0.000357, 0.154545],
];

export const MRG_VALUE = 'NO';

/** TOP_PACK churn when present vs missing, and the four packs whose churn rate was published. */
export const TOP_PACK_MISSING_SHARE = 0.419022;
export const TOP_PACK_CHURN_IF_PRESENT = 0.040161;
export const TOP_PACK_KNOWN_CHURN: Readonly<Record<string, number>> = {
  'On net 200F=Unlimited _call24H': 0.018976,
  'On-net 1000F=10MilF;10d': 0.014089,
  'Data:1000F=5GB,7d': 0.101716,
  'Mixt 250F=Unlimited_call24H': 0.042141,
};

/**
 * The 40 most frequent packs with their share among non-missing TOP_PACK values: ranks 1–14 from the full
 * file, 15–40 from the half-size re-release. Names are verbatim, trailing tabs and odd spacing included.
 */
export const TOP_PACKS_RANKED: readonly (readonly [name: string, share: number])[] = [
  ['All-net 500F=2000F;5d', 0.253946],
  ['On net 200F=Unlimited _call24H', 0.121694],
  ['Data:490F=1GB,7d', 0.092037],
  ['Data: 100 F=40MB,24H', 0.067641],
  ['Mixt 250F=Unlimited_call24H', 0.053947],
  ['MIXT:500F= 2500F on net _2500F off net;2d', 0.05147],
  ['Data:1000F=2GB,30d', 0.04776],
  ['All-net 500F =2000F_AllNet_Unlimited', 0.037468],
  ['Jokko_Daily', 0.035987],
  ['Data: 200 F=100MB,24H', 0.034233],
  ['IVR Echat_Daily_50F', 0.0229],
  ['On-net 500=4000,10d', 0.021362],
  ['On-net 500F_FNF;3d', 0.017845],
  ['Data:200F=Unlimited,24H', 0.017614],
  ['MIXT: 200mnoff net _unl on net _5Go;30d', 0.015362],
  ['On-net 1000F=10MilF;10d', 0.014866],
  ['Data:1000F=5GB,7d', 0.011938],
  ['VAS(IVR_Radio_Daily)', 0.011789],
  ['Twter_U2opia_Daily', 0.009429],
  ['All-net 600F= 3000F ;5d', 0.008455],
  ['On-net 200F=60mn;1d', 0.005289],
  ['Data:500F=2GB,24H', 0.004639],
  ['All-net 1000=5000;5d', 0.004615],
  ['Twter_U2opia_Weekly', 0.004486],
  ['Data:3000F=10GB,30d', 0.002969],
  ['MIXT: 390F=04HOn-net_400SMS_400 Mo;4h\t', 0.002391],
  ['All-net 500F=1250F_AllNet_1250_Onnet;48h', 0.002269],
  ['Data:300F=100MB,2d', 0.002129],
  ['Data:50F=30MB_24H', 0.002029],
  ['All-net 1000F=(3000F On+3000F Off);5d', 0.001673],
  ['On net 200F= 3000F_10Mo ;24H', 0.001441],
  ['MIXT: 590F=02H_On-net_200SMS_200 Mo;24h\t\t', 0.001363],
  ['Data:DailyCycle_Pilot_1.5GB', 0.001229],
  ['All-net 300=600;2d', 0.001196],
  ['Data:150F=SPPackage1,24H', 0.001148],
  ['200=Unlimited1Day', 0.001071],
  ['Data:1500F=3GB,30D', 0.000814],
  ['Data:700F=1.5GB,7d', 0.000683],
  ['Jokko_promo', 0.000666],
  ['On-net 300F=1800F;3d', 0.00063],
];

/**
 * The other 100 packs seen in Train.csv (alphabetical; their frequencies are unknown). The last three are
 * the packs published as occurring exactly once, so the geometric tail puts them last.
 */
export const TAIL_PACKS: readonly string[] = [
  '1000=Unlimited7Day',
  '1500=Unlimited7Day',
  '150=unlimited pilot auto',
  '200=unlimited pilot auto',
  '200F=10mnOnNetValid1H',
  '301765007',
  '305155009',
  '500=Unlimited3Day',
  'APANews_monthly',
  'APANews_weekly',
  'All-net 5000= 20000off+20000on;30d',
  'All-net 500= 4000off+4000on;24H',
  'All-net 500F=4000F ; 5d',
  'CVM_100F_unlimited',
  'CVM_100f=200 MB',
  'CVM_100f=500 onNet',
  'CVM_200f=400MB',
  'CVM_500f=2GB',
  'CVM_On-net 1300f=12500',
  'CVM_On-net 400f=2200F',
  'CVM_on-net bundle 500=5000',
  'Data: 200F=1GB,24H',
  'Data: 490F=Night,00H-08H',
  'Data:1000F=700MB,7d',
  'Data:1500F=SPPackage1,30d',
  'Data:30Go_V 30_Days',
  'Data:700F=SPPackage1,7d',
  'Data:New-GPRS_PKG_1500F',
  'Data:OneTime_Pilot_1.5GB',
  'DataPack_Incoming',
  'Data_EVC_2Go24H',
  'Data_Mifi_10Go',
  'Data_Mifi_10Go_Monthly',
  'Data_Mifi_20Go',
  'ESN_POSTPAID_CLASSIC_RENT',
  'EVC_100Mo',
  'EVC_1Go',
  'EVC_4900=12000F',
  'EVC_500=2000F',
  'EVC_700Mo',
  'EVC_JOKKO30',
  'EVC_Jokko_Weekly',
  'EVC_MEGA10000F',
  'FIFA_TS_daily',
  'FIFA_TS_monthly',
  'FIFA_TS_weekly',
  'FNF2 ( JAPPANTE)',
  'FNF_Youth_ESN',
  'Facebook_MIX_2D',
  'GPRS_3000Equal10GPORTAL',
  'GPRS_5Go_7D_PORTAL',
  'GPRS_BKG_1000F MIFI',
  'GPRS_PKG_5GO_ILLIMITE',
  'Go-NetPro-4 Go',
  'IVR Echat_Monthly_500F',
  'IVR Echat_Weekly_200F',
  'Incoming_Bonus_woma',
  'Internat: 1000F_Zone_1;24H\t\t',
  'Internat: 1000F_Zone_3;24h\t\t',
  'Internat: 2000F_Zone_2;24H\t\t',
  'Jokko_Monthly',
  'Jokko_Weekly',
  'MIXT: 4900F= 10H on net_1,5Go ;30d',
  'MIXT: 5000F=80Konnet_20Koffnet_250Mo;30d\t\t',
  'MIXT: 500F=75(SMS, ONNET, Mo)_1000FAllNet;24h\t\t',
  'MIXT:10000F=10hAllnet_3Go_1h_Zone3;30d\t\t',
  'MIXT:1000F=4250 Off net _ 4250F On net _100Mo; 5d',
  'MROMO_TIMWES_OneDAY',
  'MROMO_TIMWES_RENEW',
  'MegaChrono_3000F=12500F TOUS RESEAUX',
  'Mixt : 500F=2500Fonnet_2500Foffnet ;5d',
  'NEW_CLIR_PERMANENT_LIBERTE_MOBILE',
  'NEW_CLIR_TEMPALLOWED_LIBERTE_MOBILE',
  'NEW_CLIR_TEMPRESTRICTED_LIBERTE_MOBILE',
  'New_YAKALMA_4_ALL',
  'On-net 2000f_One_Month_100H; 30d',
  'Pilot_Youth1_290',
  'Pilot_Youth4_490',
  'Postpaid FORFAIT 10H Package',
  'SMS Max',
  'SUPERMAGIK_1000',
  'SUPERMAGIK_5000',
  'Staff_CPE_Rent',
  'TelmunCRBT_daily',
  'Twter_U2opia_Monthly',
  'VAS(IVR_Radio_Monthly)',
  'VAS(IVR_Radio_Weekly)',
  'WIFI_ Family _10MBPS',
  'WIFI_ Family _4MBPS',
  'WIFI_Family_2MBPS',
  'YMGX 100=1 hour FNF, 24H/1 month',
  'YMGX on-net 100=700F, 24H',
  'Yewouleen_PKG',
  'pack_chinguitel_24h',
  'pilot_offer4',
  'pilot_offer6',
  'pilot_offer7',
  'CVM_150F_unlimited',
  'Package3_Monthly',
  'pilot_offer5',
];

/** Churn when a column is missing vs present (full data), the signal a faithful copy must carry. */
export const CHURN_IF_MISSING: Readonly<
  Partial<Record<string, readonly [missing: number, present: number]>>
> = {
  REGION: [0.447987, 0.01802],
  REVENUE: [0.450098, 0.054057],
  MONTANT: [0.441463, 0.050035],
  ON_NET: [0.423144, 0.052004],
  ORANGE: [0.39438, 0.04045],
  TOP_PACK: [0.391899, 0.040161],
  DATA_VOLUME: [0.305654, 0.073024],
  TIGO: [0.292548, 0.030779],
  ZONE1: [0.199756, 0.044809],
  ZONE2: [0.196644, 0.053434],
};

/** Fully inactive rows (everything but TENURE K and REGULARITY missing): REGULARITY → [rows, churn rate]. */
export const FULLY_INACTIVE: Readonly<Record<number, readonly [rows: number, churnRate: number]>> = {
  1: [129858, 0.7895],
  2: [69104, 0.6955],
  3: [42970, 0.6202],
  4: [29491, 0.5731],
  5: [21349, 0.521],
  6: [16174, 0.4798],
  7: [12609, 0.4457],
  8: [9798, 0.4241],
  9: [7770, 0.3972],
  10: [6510, 0.3699],
};

/** Churn by REGULARITY band (half-size re-release): [from, to, share of rows, churn rate]. */
export const REGULARITY_BANDS: readonly (readonly [
  from: number,
  to: number,
  share: number,
  churn: number,
])[] = [
  [1, 20, 0.463, 0.379],
  [21, 40, 0.188, 0.046],
  [41, 62, 0.349, 0.009],
];

/** Held-out ROC AUC a GBDT reaches on the real data (three independent sources). */
export const REAL_GBDT_AUC = 0.9315;
