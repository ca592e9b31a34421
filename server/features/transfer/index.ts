/** Transfer, blind and attended: the one entry for the SIP front door (REFER) and the REST one. */
export { TransferService } from './transfer-service';
export type { TransferCommands, TransferDeps, TransferOutcome, TransferRequest, TransferringUser } from './transfer-service';
