import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'campus-access:public';

/** The route needs no authentication and no permission (health, metrics, token endpoints, JWKS). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
